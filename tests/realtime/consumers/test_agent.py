"""The agent console: snapshot, own state, calls with the screen pop, queue figures."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from contactcenter.enums import AgentState, CallEventType, CallStatus, TransferKind, TransferStatus
from contactcenter.models import Agent, Call, CallDisposition, CallEvent, CallTransfer, Membership
from contactcenter.selectors import screen_calls
from crm.enums import CaseStatus
from realtime.groups import agent_group
from realtime.screens import console
from tests.crm.factories import make_case, make_contact
from tests.factories import make_agent, make_call, make_member
from tests.realtime.script import CallScript, apply, member_state
from tests.realtime.support import open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


def is_call(type_: str, call_id: int | None = None) -> Any:
    def match(message: dict[str, Any]) -> bool:
        if message["type"] != type_:
            return False
        data = message["data"]
        return call_id is None or data.get("call", {}).get("id", data.get("call_id")) == call_id

    return match


async def test_snapshot_holds_what_the_screen_shows(desk: Any) -> None:
    @sync
    def prepare() -> None:
        CallDisposition.objects.create(organization=desk.org, name="Sale", code="sale")
        CallDisposition.objects.create(
            organization=desk.org, name="Old", code="old", is_active=False
        )

    await prepare()
    socket, snapshot = await open_agent(await session_cookie(desk.agent_member.user))
    assert snapshot["agent"] == {
        "id": desk.agent.pk,
        "name": desk.agent.name,
        "extension": desk.agent.extension,
        "state": "offline",
        "state_reason": "",
        "state_changed_at": None,
    }
    assert snapshot["online"] is True
    assert snapshot["calls"] == []
    assert [q["queue_id"] for q in snapshot["queues"]] == [desk.queue.pk]
    assert snapshot["queues"][0]["callers_waiting"] == 0
    assert "agents" not in snapshot["queues"][0]  # the roster is the wallboard's
    assert [d["code"] for d in snapshot["dispositions"]] == ["sale"]
    assert snapshot["notifications"] == []
    await socket.close()


async def test_a_ringing_call_pops_the_contact_their_open_cases_and_last_calls(
    desk: Any,
) -> None:
    @sync
    def prepare() -> dict[str, Any]:
        contact = make_contact(desk.org, "(555) 765-4321", first_name="Ada")
        mine = make_case(desk.org, "Refund", contact=contact, assigned_agent=desk.agent)
        unassigned = make_case(desk.org, "Invoice copy", contact=contact)
        others = make_case(desk.org, "Theirs", contact=contact, assigned_agent=desk.other_agent)
        make_case(desk.org, "Done", contact=contact, status=CaseStatus.CLOSED)
        earlier = make_call(desk.org, agent=desk.agent, caller_number="+15557654321")
        make_call(desk.org, agent=desk.other_agent, caller_number="+15557654321")
        return {
            "contact": contact.pk,
            "cases": {mine.pk, unassigned.pk},
            "hidden": others.pk,
            "earlier": earlier.pk,
        }

    seen = await prepare()
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    call = CallScript(caller="+15557654321")
    await apply(desk.org, call.started(), call.queued(), call.offered(desk.agent.interface))
    ringing = await socket.until(is_call("call.ringing"))
    data = ringing["data"]
    assert data["leg"] == "offered"
    assert data["call"]["status"] == CallStatus.QUEUED
    assert data["call"]["caller_number"] == "+15557654321"
    pop = data["pop"]
    assert pop["number"] == "+15557654321"
    assert [c["id"] for c in pop["contacts"]] == [seen["contact"]]
    assert pop["contacts"][0]["phones"] == ["+15557654321"]
    # An agent sees their own and unassigned cases, never a colleague's; closed ones are
    # not open. Their own earlier call, not the colleague's.
    assert {c["id"] for c in pop["open_cases"]} == seen["cases"]
    assert [c["id"] for c in pop["last_calls"]] == [seen["earlier"]]
    await socket.close()


async def test_a_call_through_its_life(desk: Any) -> None:
    me, colleague = desk.agent.interface, desk.other_agent.interface
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(me))
    call_id = (await socket.until(is_call("call.ringing")))["data"]["call"]["id"]

    await apply(desk.org, call.answered(me))
    answered = await socket.until(is_call("call.answered", call_id))
    assert answered["data"]["leg"] == "connected"
    assert answered["data"]["call"]["agent_id"] == desk.agent.pk

    await apply(desk.org, call.held(me))
    held = await socket.until(is_call("call.held", call_id))
    assert held["data"]["call"]["held_since"] is not None

    await apply(desk.org, call.resumed(me))
    resumed = await socket.until(is_call("call.resumed", call_id))
    assert resumed["data"]["call"]["held_since"] is None

    await apply(desk.org, call.transferred(me, colleague))
    assert (await socket.until(is_call("call.transferred", call_id)))["data"]["call"]

    await apply(desk.org, call.completed(me), call.ended())
    ended = await socket.until(is_call("call.ended", call_id))
    assert ended["data"]["call"]["status"] == CallStatus.COMPLETED
    # Wrap-up: the ended call stays on the screen of the agent who answered it.
    assert ended["data"]["leg"] == "done"
    await socket.close()


async def test_an_offer_taken_by_a_colleague_leaves_the_screen(desk: Any) -> None:
    me, colleague = desk.agent.interface, desk.other_agent.interface
    mine, _ = await open_agent(await session_cookie(desk.agent_member.user))
    theirs, _ = await open_agent(await session_cookie(desk.other_agent.user))
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(me), call.offered(colleague))
    ringing = await mine.until(is_call("call.ringing"))
    call_id = ringing["data"]["call"]["id"]
    await theirs.until(is_call("call.ringing", call_id))

    await apply(desk.org, call.answered(colleague))
    removed = await mine.until(is_call("call.removed", call_id))
    assert removed["data"] == {"call_id": call_id}
    assert (await theirs.until(is_call("call.answered", call_id)))["data"]["leg"] == "connected"
    await mine.close()
    await theirs.close()


async def test_an_unanswered_offer_is_removed_and_never_shown_elsewhere(desk: Any) -> None:
    me = desk.agent.interface
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(me))
    call_id = (await socket.until(is_call("call.ringing")))["data"]["call"]["id"]
    await apply(desk.org, call.offer_ended(me))
    await socket.until(is_call("call.removed", call_id))
    # The caller gives up: nothing more for this agent's screen (the removal was sent).
    await apply(desk.org, call.abandoned(), call.ended())
    assert [f for f in await socket.drain() if f["type"].startswith("call.")] == []
    await socket.close()


async def test_own_state_from_the_pbx_and_queue_figures(desk: Any) -> None:
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    await apply(desk.org, member_state(desk.agent.interface, "support", paused=True))
    state = await socket.until(lambda f: f["type"] == "agent.state")
    assert state["data"]["agent"]["state"] == AgentState.PAUSED
    assert state["data"]["agent"]["state_reason"] == "lunch"

    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    stats = await socket.until(
        lambda f: f["type"] == "queue.stats" and f["data"]["queue"]["callers_waiting"] == 1
    )
    assert stats["data"]["queue"]["queue_id"] == desk.queue.pk
    assert stats["data"]["queue"]["offered"] == 1
    await socket.close()


async def test_every_tab_of_the_agent_hears_the_same(desk: Any) -> None:
    cookie = await session_cookie(desk.agent_member.user)
    first, _ = await open_agent(cookie)
    second, _ = await open_agent(cookie)
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(desk.agent.interface))
    one = await first.until(is_call("call.ringing"))
    two = await second.until(is_call("call.ringing"))
    assert one["data"] == two["data"]
    await first.close()
    await second.close()


def test_a_call_ringing_many_agents_pops_each_their_own_last_calls(
    desk: Any, django_assert_max_num_queries: Any
) -> None:
    """A queue rings many agents at once: each pop still holds that agent's own history
    (their calls, and calls transferred to or from them), and the agents without any
    history with the caller cost no query each."""
    caller = "+15557654321"
    mine = make_call(desk.org, agent=desk.agent, caller_number=caller)
    handed = make_call(desk.org, agent=None, caller_number=caller)
    CallTransfer.objects.create(
        organization=desk.org,
        call=handed,
        kind=TransferKind.BLIND,
        status=TransferStatus.COMPLETED,
        to_agent=desk.other_agent,
        requested_at=timezone.now(),
        dedup_key="t1",
    )
    strangers = [make_agent(desk.org, make_member(desk.org, role="agent")) for _ in range(12)]
    # Taken by a stranger: their only call with this caller is this one, which no pop
    # lists, so they too need no query of their own.
    ringing = make_call(
        desk.org, agent=strangers[0], caller_number=caller, status=CallStatus.IN_PROGRESS
    )
    agents = [desk.agent, desk.other_agent, *strangers]
    for agent in agents:
        CallEvent.objects.create(
            organization=desk.org,
            call=ringing,
            type=CallEventType.AGENT_CALLED,
            agent=agent,
            occurred_at=timezone.now(),
            dedup_key=f"offer-{agent.pk}",
        )
    calls = list(screen_calls.with_last_entry(Call.objects.filter(pk=ringing.pk)))
    with django_assert_max_num_queries(7):  # 14 agents ring: two of them query their history
        messages = console.call_changes(calls=calls, agents=agents, now=timezone.now())
    last = {f.agent_id: [c.id for c in f.data.pop.last_calls] for f in messages}
    assert last[desk.agent.pk] == [mine.pk]
    assert last[desk.other_agent.pk] == [handed.pk]
    assert all(last[a.pk] == [] for a in strangers)


def test_agents_read_with_their_memberships_cost_no_query_for_them(
    desk: Any, django_assert_num_queries: Any
) -> None:
    """The publisher reads the agents with their users' memberships (what a pop may
    show depends on the role): the same memberships as read apart, with none for an
    agent without a login or a login without a membership."""
    supervising = make_agent(desk.org, desk.supervisor)
    desk_phone = make_agent(desk.org)
    unlisted = make_agent(desk.org, make_member(desk.org))
    Membership.objects.filter(user=unlisted.user).delete()
    pks = [desk.agent.pk, supervising.pk, desk_phone.pk, unlisted.pk]
    apart = screen_calls.memberships_of(Agent.objects.filter(pk__in=pks))
    agents = list(Agent.objects.filter(pk__in=pks).select_related(screen_calls.WITH_MEMBERSHIP))
    with django_assert_num_queries(0):
        together = screen_calls.memberships_of(agents)
        seen = {pk: (m.role, m.organization.name) for pk, m in together.items()}
    assert together == apart
    assert seen == {
        desk.agent.pk: ("agent", desk.org.name),
        supervising.pk: ("supervisor", desk.org.name),
    }


async def test_a_message_does_not_wait_for_the_database_thread(desk: Any) -> None:
    """A published message reaches the console while the one database thread is busy (a
    flush computing queue figures, a snapshot): channels' dispatch used to take a turn
    through that thread before each handler, so the message waited for it."""
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    started, release = threading.Event(), threading.Event()

    def hold_the_thread() -> None:
        started.set()
        release.wait(10)

    busy = asyncio.ensure_future(sync_to_async(hold_the_thread, thread_sensitive=True)())
    try:
        await asyncio.to_thread(started.wait, 5)
        # Not the console's own presence, which it heard on connecting.
        data = {"agent_id": desk.other_agent.pk, "online": False}
        message = {"type": "agent.presence", "data": data}
        await get_channel_layer().group_send(agent_group(desk.agent.pk), message)
        await socket.until(lambda f: f["type"] == "agent.presence" and f["data"] == data, 3)
        assert not busy.done()  # delivered while the thread was still held
    finally:
        release.set()
        await busy
    await socket.close()
