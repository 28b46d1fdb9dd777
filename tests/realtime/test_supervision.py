"""A supervisor manages agents live from the wallboard stream: through the real bridge
and the AMI simulator over TCP, the consoles hearing each effect.

Pause with a reason and unpause, add to a queue with a penalty and remove, log out,
hang up a stuck call; the PBX's refusals come back as ``pbx_failed``; an agent and
another organization's supervisor are refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contactcenter.enums import AgentState, CallStatus
from contactcenter.models import (
    Agent,
    AuditEntry,
    Call,
    CallEvent,
    Organization,
    QueueMembership,
)
from tests.factories import make_call
from tests.realtime.pbxfloor import Floor, pbx_floor
from tests.realtime.support import open_agent, open_board, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def floor() -> AsyncIterator[Floor]:
    async with pbx_floor() as floor:
        yield floor


async def test_pause_queue_membership_and_log_out(floor: Floor) -> None:
    board, _ = await open_board(floor.members["supervisor"])
    bob_console, _ = await open_agent(await session_cookie(floor.members["bob"].user))
    bob = floor.agents["bob"]

    ack = await board.command(
        "agent.pause", {"agent_id": bob.pk, "paused": True, "reason": "coaching"}
    )
    assert ack["type"] == "ack", ack
    assert ack["data"]["result"]["pbx"] == {
        "ok": True,
        "error": "",
        "message": "Interface paused successfully",
    }
    assert ack["data"]["result"]["agent"]["state"] == AgentState.PAUSED
    member = floor.member("support", "1002")
    assert (member.paused, member.paused_reason) == (True, "coaching")
    state = await bob_console.until(
        lambda f: f["type"] == "agent.state" and f["data"]["agent"]["state"] == "paused"
    )
    assert state["data"]["agent"]["state_reason"] == "coaching"

    ack = await board.command("agent.pause", {"agent_id": bob.pk, "paused": False}, id_="c2")
    assert ack["data"]["result"]["pbx"]["message"] == "Interface unpaused successfully"
    assert floor.member("support", "1002").paused is False
    await bob_console.until(
        lambda f: f["type"] == "agent.state" and f["data"]["agent"]["state"] == "available"
    )

    # A pause needs a reason, as an agent's own does; nothing reaches the PBX.
    error = await board.command("agent.pause", {"agent_id": bob.pk, "paused": True}, id_="c3")
    assert error["data"]["code"] == "invalid"
    assert error["data"]["details"] == {"field": "reason"}

    sales = floor.queues["sales"]
    added = {"agent_id": bob.pk, "queue_id": sales.pk, "penalty": 3}
    ack = await board.command("agent.queue_add", added, id_="c4")
    assert ack["data"]["result"]["pbx"]["message"] == "Added interface to queue"
    assert floor.member("sales", "1002").penalty == 3
    # The PBX says no to a second add: the supervisor hears its words.
    error = await board.command("agent.queue_add", added, id_="c5")
    assert error["data"]["code"] == "pbx_failed"
    assert error["data"]["details"]["pbx"]["message"] == "Unable to add interface: Already there"
    await floor.settled()
    membership = await sync(QueueMembership.objects.get)(agent=bob, queue=sales)
    assert (membership.penalty, membership.is_logged_in) == (3, True)

    removed = {"agent_id": bob.pk, "queue_id": sales.pk}
    ack = await board.command("agent.queue_remove", removed, id_="c6")
    assert ack["data"]["result"]["pbx"]["message"] == "Removed interface from queue"
    assert floor.member("sales", "1002") is None
    error = await board.command("agent.queue_remove", removed, id_="c7")
    assert error["data"]["details"]["pbx"]["message"] == "Unable to remove interface: Not there"

    carol = floor.agents["carol"]
    ack = await board.command("agent.log_out", {"agent_id": carol.pk}, id_="c8")
    assert [r["message"] for r in ack["data"]["result"]["pbx"]] == ["Removed interface from queue"]
    assert floor.member("support", "1003") is None
    await floor.settled()
    carol_now = await sync(Agent.objects.get)(pk=carol.pk)
    assert carol_now.state == AgentState.OFFLINE

    supervisor = floor.members["supervisor"].user.pk
    asked = await sync(
        lambda: list(
            AuditEntry.objects.filter(action__startswith="pbx.")
            .order_by("id")
            .values_list("action", "actor_user_id", "details")
        )
    )()
    assert [(action, who) for action, who, _ in asked] == [
        ("pbx.queue_pause", supervisor),
        ("pbx.queue_pause", supervisor),
        ("pbx.queue_add", supervisor),
        ("pbx.queue_add", supervisor),
        ("pbx.queue_remove", supervisor),
        ("pbx.queue_remove", supervisor),
        ("pbx.queue_remove", supervisor),
    ]
    assert asked[0][2] == {"agent": "PJSIP/1002", "paused": True, "reason": "coaching", "ok": True}
    assert asked[3][2]["ok"] is False
    for socket in (board, bob_console):
        await socket.close()


async def test_hang_up_a_stuck_call(floor: Floor) -> None:
    board, _ = await open_board(floor.members["admin"])
    alice_console, _ = await open_agent(await session_cookie(floor.members["alice"].user))
    floor.place_call("stuck", agents=("1001",), answer_after=0, talk=3600)
    answered = await alice_console.until(lambda f: f["type"] == "call.answered")
    call_id = answered["data"]["call"]["id"]

    ack = await board.command("call.force_hangup", {"call_id": call_id})
    assert ack["type"] == "ack", ack
    assert ack["data"]["result"]["pbx"]["ok"] is True
    ended = await alice_console.until(lambda f: f["type"] == "call.ended")
    assert ended["data"]["call"]["status"] == CallStatus.COMPLETED
    # Gone from the PBX: nothing left to hang up.
    error = await board.command("call.force_hangup", {"call_id": call_id}, id_="c2")
    assert error["data"]["code"] == "pbx_failed"
    assert error["data"]["details"]["pbx"]["message"] == "That call is not live on this PBX."
    actions = await sync(
        lambda: list(
            AuditEntry.objects.filter(action="pbx.hangup_call", object_id=str(call_id))
            .order_by("id")
            .values_list("details", flat=True)
        )
    )()
    assert actions == [{"ok": True}, {"ok": False}]
    assert await sync(lambda: Call.objects.get(pk=call_id).status)() == CallStatus.COMPLETED
    for socket in (board, alice_console):
        await socket.close()


async def test_refusals(floor: Floor, floor_b: Any) -> None:
    bob = floor.agents["bob"]
    # An agent's stream has no supervisor commands, and the wallboard refuses agents.
    alice_console, _ = await open_agent(await session_cookie(floor.members["alice"].user))
    pause = {"agent_id": bob.pk, "paused": True, "reason": "x"}
    error = await alice_console.command("agent.pause", pause)
    assert error["data"]["code"] == "unknown_type"
    await alice_console.close()

    # Another organization's supervisor: floor A's ids do not exist there.
    board, _ = await open_board(floor_b.supervisor)
    support = floor.queues["support"]
    commands: list[tuple[str, dict[str, Any]]] = [
        ("agent.pause", pause),
        ("agent.log_out", {"agent_id": bob.pk}),
        ("agent.queue_add", {"agent_id": bob.pk, "queue_id": support.pk}),
        ("agent.queue_remove", {"agent_id": floor_b.agent.pk, "queue_id": support.pk}),
    ]
    for index, (command, data) in enumerate(commands):
        error = await board.command(command, data, id_=f"x{index}")
        assert error["data"]["code"] == "not_found", (command, error)
    organization = await sync(lambda: Organization.objects.get(pk=floor.organization_id))()
    call = await sync(make_call)(organization, agent=bob)
    error = await board.command("call.force_hangup", {"call_id": call.pk}, id_="call")
    assert error["data"]["code"] == "not_found"
    await board.close()
    # Nothing reached floor A's PBX, and nothing was audited.
    assert floor.member("support", "1002").paused is False
    assert await sync(AuditEntry.objects.filter(action__startswith="pbx.").count)() == 0


async def test_move_a_waiting_caller_to_an_agent(floor: Floor) -> None:
    board, _ = await open_board(floor.members["supervisor"])
    carol_console, _ = await open_agent(await session_cookie(floor.members["carol"].user))
    alice_console, _ = await open_agent(await session_cookie(floor.members["alice"].user))
    # Carol's phone rings and rings: the caller waits in the queue.
    floor.place_call("waiting", agents=("1003",), answer_after=600, talk=3600)
    ringing = await carol_console.until(lambda f: f["type"] == "call.ringing")
    call_id = ringing["data"]["call"]["id"]
    alice = floor.agents["alice"]

    ack = await board.command("call.move", {"call_id": call_id, "agent_id": alice.pk})
    assert ack["type"] == "ack", ack
    assert ack["data"]["result"]["pbx"]["message"] == "Redirect successful"
    answered = await alice_console.until(lambda f: f["type"] == "call.answered")
    assert answered["data"]["call"]["id"] == call_id
    await floor.settled()
    call = await sync(lambda: Call.objects.select_related("agent").get(pk=call_id))()
    assert call.agent == alice
    assert call.status == CallStatus.IN_PROGRESS
    # Answered now: no longer a waiting caller to move.
    error = await board.command("call.move", {"call_id": call_id, "agent_id": alice.pk}, id_="c2")
    assert error["data"]["code"] == "not_waiting"
    entry = await sync(lambda: AuditEntry.objects.get(action="pbx.redirect"))()
    assert entry.details == {
        "agent": alice.pk,
        "call": call.external_id,
        "exten": "1001",
        "ok": True,
    }
    for socket in (board, carol_console, alice_console):
        await socket.close()


async def test_move_a_waiting_caller_to_another_queue(floor: Floor) -> None:
    """Redirect of the caller's leg to <queue>@cc-queues (deploy/asterisk/extensions.conf):
    the caller leaves support and waits in sales, whose member (alice) is rung."""
    board, _ = await open_board(floor.members["supervisor"])
    carol_console, _ = await open_agent(await session_cookie(floor.members["carol"].user))
    alice_console, _ = await open_agent(await session_cookie(floor.members["alice"].user))
    floor.place_call("waiting", agents=("1003",), answer_after=600, talk=3600)
    ringing = await carol_console.until(lambda f: f["type"] == "call.ringing")
    call_id = ringing["data"]["call"]["id"]
    support = floor.queues["support"]
    sales = floor.queues["sales"]
    assert ringing["data"]["call"]["queue_id"] == support.pk

    same = {"call_id": call_id, "queue_id": support.pk}
    error = await board.command("call.move", same, id_="c0")
    assert error["data"]["code"] == "same_queue"
    both = {"call_id": call_id, "queue_id": sales.pk, "agent_id": floor.agents["alice"].pk}
    error = await board.command("call.move", both, id_="c1")
    assert error["data"]["code"] == "invalid"

    ack = await board.command("call.move", {"call_id": call_id, "queue_id": sales.pk}, id_="c2")
    assert ack["type"] == "ack", ack
    assert ack["data"]["result"]["pbx"]["message"] == "Redirect successful"
    # Sales rings its member, alice; carol's phone stops ringing.
    offered = await alice_console.until(
        lambda f: f["type"] == "call.ringing" and f["data"]["call"]["id"] == call_id
    )
    # The call stays counted in the queue it first joined (the wallboard's figures); its
    # timeline has the join of the second.
    assert offered["data"]["call"]["queue_id"] == support.pk
    await carol_console.until(
        lambda f: f["type"] == "call.removed" and f["data"]["call_id"] == call_id
    )
    await floor.settled()
    caller = floor.simulator.pbx.queues["sales"].entries[0].channel
    assert (caller.context, caller.exten) == ("cc-queues", "sales")
    joins = await sync(
        lambda: list(
            CallEvent.objects.filter(call_id=call_id, type="queue.joined")
            .order_by("occurred_at", "id")
            .values_list("details__queue", flat=True)
        )
    )()
    assert joins == ["support", "sales"]
    entry = await sync(lambda: AuditEntry.objects.get(action="pbx.move_to_queue"))()
    call = await sync(lambda: Call.objects.get(pk=call_id))()
    assert entry.details == {
        "queue_id": sales.pk,
        "call": call.external_id,
        "queue": "sales",
        "ok": True,
    }
    for socket in (board, carol_console, alice_console):
        await socket.close()
