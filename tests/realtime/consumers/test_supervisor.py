"""The supervisor page's stream (/ws/supervisor/): every agent of the organization, also
those in no queue, with their queues and the call they are on; the callers waiting;
the whole floor again after each change (coalesced); supervisors and admins of the
organization only."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from contactcenter import facts as te
from contactcenter.models import Call, Organization
from contactcenter.models.calls import COACHED_FLAG
from contactcenter.services.monitoring import monitor_facts_apply
from tests.conftest import Floor
from tests.factories import make_agent, make_member, make_queue
from tests.realtime.script import CallScript, apply
from tests.realtime.support import Socket, open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


async def open_floor(member: Any) -> tuple[Socket, dict[str, Any]]:
    socket = Socket("/ws/supervisor/", cookie=await session_cookie(member.user))
    connected, code = await socket.open()
    assert connected, code
    assert socket.messages[0]["data"]["stream"] == "supervisor"
    return socket, (await socket.expect("snapshot"))["data"]


def _row(data: dict[str, Any], agent_id: int) -> dict[str, Any]:
    return next(a for a in data["agents"] if a["agent"]["id"] == agent_id)


def _monitors_of(agent_id: int, count: int) -> Any:
    """A floor.update where the agent's call has ``count`` monitoring sessions."""

    def match(message: dict[str, Any]) -> bool:
        if message["type"] != "floor.update":
            return False
        call = _row(message["data"], agent_id)["call"]
        return call is not None and len(call["monitors"]) == count

    return match


def _idle_agent(floor: Floor) -> Any:
    from contactcenter.enums import Role

    return make_agent(floor.org, make_member(floor.org, Role.AGENT))


async def test_every_agent_their_queues_and_call(desk: Any, floor_b: Floor) -> None:
    idle = await sync(_idle_agent)(desk)  # in no queue
    page, snapshot = await open_floor(desk.supervisor)
    ids = {a["agent"]["id"] for a in snapshot["agents"]}
    assert ids == {desk.agent.pk, desk.other_agent.pk, idle.pk}
    assert not ids & {floor_b.agent.pk, floor_b.other_agent.pk}  # another organization's
    assert [q["queue_name"] for q in _row(snapshot, desk.agent.pk)["queues"]] == ["Support"]
    assert _row(snapshot, idle.pk)["queues"] == []
    assert snapshot["queues"] == [{"id": desk.queue.pk, "name": desk.queue.name}]
    assert snapshot["waiting"] == []
    assert snapshot["phone"] == ""  # the supervisor has no agent profile: no phone

    # A caller waits: the floor is read again and sent whole.
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    update = await page.until(lambda f: f["type"] == "floor.update" and f["data"]["waiting"])
    (waiting,) = update["data"]["waiting"]
    assert (waiting["call"]["caller_number"], waiting["queue_name"]) == (call.caller, "Support")

    # Moved into another queue (a Redirect to cc-queues): it waits there now, while the
    # call stays counted in the first (call.queue_id).
    sales = await sync(make_queue)(desk.org, "sales")
    await apply(desk.org, replace(call.queued(), queue="sales", dedup_key=f"{call.key}:sales"))
    update = await page.until(
        lambda f: f["type"] == "floor.update" and f["data"]["waiting"][0]["queue_name"] == "Sales"
    )
    (waiting,) = update["data"]["waiting"]
    assert (waiting["queue_id"], waiting["call"]["queue_id"]) == (sales.pk, desk.queue.pk)

    # Alice answers: the call is on her row, no longer waiting.
    me = desk.agent.interface
    await apply(desk.org, call.offered(me), call.answered(me))
    update = await page.until(
        lambda f: f["type"] == "floor.update" and _row(f["data"], desk.agent.pk)["call"]
    )
    on_call = _row(update["data"], desk.agent.pk)["call"]
    assert on_call["call"]["status"] == "in_progress"
    assert on_call["queue_name"] == "Support"
    assert on_call["monitors"] == []
    assert update["data"]["waiting"] == []

    # Held: the page says so.
    await apply(desk.org, call.held(me))
    await page.until(
        lambda f: (
            f["type"] == "floor.update"
            and (_row(f["data"], desk.agent.pk)["call"] or {}).get("call", {}).get("status")
            == "on_hold"
        )
    )
    await page.close()


async def test_agents_and_other_organizations_are_refused(desk: Any, floor_b: Floor) -> None:
    console = Socket("/ws/supervisor/", cookie=await session_cookie(desk.agent_member.user))
    connected, code = await console.open()
    assert (connected, code) == (False, 4403)
    # Another organization's supervisor sees their floor only, and acts on nothing here.
    other, snapshot = await open_floor(floor_b.supervisor)
    assert {a["agent"]["id"] for a in snapshot["agents"]} == {
        floor_b.agent.pk,
        floor_b.other_agent.pk,
    }
    pause = {"agent_id": desk.agent.pk, "paused": True, "reason": "x"}
    answer = await other.command("agent.pause", pause)
    assert (answer["type"], answer["data"]["code"]) == ("error", "not_found")
    await other.close()


def _monitoring(org_id: int, call: CallScript, mode: str, *, started: bool) -> None:
    kind = te.MonitorStarted if started else te.MonitorStopped
    fact = kind(
        call_key=call.key,
        at=call.now,
        dedup_key=f"{call.key}:{mode}:{started}",
        session=f"spy-{mode}",
        phone="PJSIP/2001",
        agent="PJSIP/1001",
        mode=mode,
    )
    from django.db import transaction

    with transaction.atomic():
        monitor_facts_apply(organization_id=org_id, connection_key="", facts=[fact])


def _policy(org_id: int, on: bool) -> None:
    Organization.objects.filter(pk=org_id).update(agents_see_monitoring=on)


async def test_monitoring_on_the_floor_and_told_to_the_agent_by_policy(desk: Any) -> None:
    me = desk.agent.interface
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(me), call.answered(me))
    console, snapshot = await open_agent(await session_cookie(desk.agent_member.user))
    page, _ = await open_floor(desk.supervisor)
    call_id = snapshot["calls"][0]["call"]["id"]

    # The policy off: the floor shows the whisper, the agent hears nothing of it.
    await sync(_monitoring)(desk.org.pk, call, "whisper", started=True)
    update = await page.until(_monitors_of(desk.agent.pk, 1))
    (monitor,) = _row(update["data"], desk.agent.pk)["call"]["monitors"]
    assert (monitor["session"], monitor["mode"]) == ("spy-whisper", "whisper")
    await sync(_monitoring)(desk.org.pk, call, "whisper", started=False)
    await page.until(_monitors_of(desk.agent.pk, 0))
    assert not [f for f in console.messages if f["type"] == "call.updated"]

    # The policy on: a barge is shown on the agent's call, and cleared as it ends; a
    # supervisor only listening never is.
    await sync(_policy)(desk.org.pk, True)
    await sync(_monitoring)(desk.org.pk, call, "listen", started=True)
    await page.until(_monitors_of(desk.agent.pk, 1))
    await sync(_monitoring)(desk.org.pk, call, "barge", started=True)
    told = await console.until(lambda f: f["type"] == "call.updated")
    assert told["data"]["call"]["coached"] == "barge"
    await page.until(_monitors_of(desk.agent.pk, 2))
    await sync(_monitoring)(desk.org.pk, call, "barge", started=False)
    cleared = await console.until(
        lambda f: f["type"] == "call.updated" and f["data"]["call"]["coached"] == ""
    )
    assert cleared["data"]["call"]["id"] == call_id
    flags = await sync(lambda: Call.objects.get(pk=call_id).flags)()
    assert COACHED_FLAG not in flags
    await console.close()
    await page.close()
