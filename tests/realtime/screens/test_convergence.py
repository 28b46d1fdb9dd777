"""Snapshot + the events received since == a fresh snapshot (as Zulip's test_events).

Changes go through the real publish paths: telephony_apply with telephony facts, and
console commands through their services.
"""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.models import CallDisposition
from tests.crm.factories import make_contact
from tests.factories import make_queue
from tests.realtime.script import CallScript, apply, member_state
from tests.realtime.support import Socket, open_agent, open_board, session_cookie, steady, sync

pytestmark = pytest.mark.django_db(transaction=True)


class ConsoleState:
    """What a console holds: its snapshot, with each event applied as the protocol says."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.agent = snapshot["agent"]
        self.online = snapshot["online"]
        self.calls = {entry["call"]["id"]: entry for entry in snapshot["calls"]}
        self.queues = {q["queue_id"]: q for q in snapshot["queues"]}
        self.notifications = {n["id"]: n for n in snapshot["notifications"]}
        self.dispositions = snapshot["dispositions"]

    def apply(self, message: dict[str, Any]) -> None:
        kind, data = message["type"], message["data"]
        if kind == "agent.state":
            self.agent = data["agent"]
        elif kind == "agent.presence" and data["agent_id"] == self.agent["id"]:
            self.online = data["online"]
        elif kind == "call.removed":
            self.calls.pop(data["call_id"], None)
        elif kind.startswith("call."):
            held = self.calls.get(data["call"]["id"])
            # A message older than the one held (two publishers racing) is stale.
            if held is None or held["call"]["updated_at"] <= data["call"]["updated_at"]:
                self.calls[data["call"]["id"]] = data
        elif kind == "queue.stats" and data["queue"]["queue_id"] in self.queues:
            self.queues[data["queue"]["queue_id"]] = data["queue"]
        elif kind == "notification.created":
            self.notifications[data["notification"]["id"]] = data["notification"]
        elif kind == "notification.read":
            self.notifications.pop(data["notification_id"], None)

    def view(self) -> Any:
        return steady(
            {
                "agent": self.agent,
                "online": self.online,
                "calls": self.calls,
                "queues": self.queues,
                "notifications": self.notifications,
                "dispositions": self.dispositions,
            }
        )


async def converge(socket: Socket, state: ConsoleState, expected: Any) -> None:
    """Apply messages as they come until the state equals ``expected`` (or time runs out)."""
    applied = 0
    while True:
        for message in socket.messages[applied:]:
            if message["type"] not in ("hello", "snapshot", "ack", "error", "pong"):
                state.apply(message)
        applied = len(socket.messages)
        if state.view() == expected:
            break
        await socket.next(timeout=3)
    # Nothing that arrives later may move it away again.
    for message in await socket.drain():
        state.apply(message)
    assert state.view() == expected


async def test_snapshot_plus_events_equals_a_fresh_snapshot(desk: Any) -> None:
    @sync
    def prepare() -> int:
        make_contact(desk.org, "+15557654321", first_name="Ada")
        make_queue(desk.org, "sales")
        return CallDisposition.objects.create(organization=desk.org, name="Sale", code="sale").pk

    sale = await prepare()
    me, colleague = desk.agent.interface, desk.other_agent.interface
    cookie = await session_cookie(desk.agent_member.user)
    socket, first = await open_agent(cookie)
    colleague_console, _ = await open_agent(await session_cookie(desk.other_agent.user))
    state = ConsoleState(first)

    # 1: answered, held, resumed, finished: stays for wrap-up, then disposed of.
    one = CallScript()
    await apply(desk.org, one.started(), one.queued(), one.offered(me))
    await apply(desk.org, one.answered(me), one.held(me))
    await apply(desk.org, one.resumed(me))
    # 2: the same customer calls again and rings both; the colleague takes it.
    two = CallScript()
    await apply(desk.org, two.started(), two.queued(), two.offered(me), two.offered(colleague))
    await apply(desk.org, two.answered(colleague))
    await apply(desk.org, one.completed(me), one.ended())
    # 3: waits in the queue; 4: rings this agent and keeps ringing.
    # 4 is the first customer again: its pop lists call 1, which changes after it rang.
    three, four = CallScript(caller="+15550001111"), CallScript()
    await apply(desk.org, three.started(), three.queued(), four.started(), four.queued())
    await apply(desk.org, four.offered(me))
    # 5: answered, transferred to the colleague, ended: wrap-up for this agent.
    five = CallScript(caller="+15550003333")
    await apply(desk.org, five.started(), five.queued(), five.offered(me), five.answered(me))
    await apply(desk.org, five.transferred(me, colleague), five.completed(me))
    await apply(desk.org, five.answered(colleague), five.completed(colleague), five.ended())
    # The PBX reports the agent's device; the agent picks a state; wrap-up work.
    await apply(desk.org, member_state(me, "support", device="in_use"))
    ack = await socket.command("agent.set_state", {"state": "wrap_up"}, id_="state")
    assert ack["type"] == "ack"
    calls = await sync(lambda: {c.external_id: c.pk for c in _calls(desk.org)})()
    ack = await socket.command(
        "call.set_disposition", {"call_id": calls[one.key], "disposition_id": sale}, id_="d"
    )
    assert ack["type"] == "ack"
    ack = await socket.command(
        "call.set_notes", {"call_id": calls[five.key], "notes": "call back"}, id_="n"
    )
    assert ack["type"] == "ack"

    fresh_socket, fresh = await open_agent(cookie)
    expected = ConsoleState(fresh).view()
    # The screen at the end: 4 ringing, 5 in wrap-up; 1 disposed of, 2 the colleague's.
    assert set(expected["calls"]) == {calls[four.key], calls[five.key]}
    assert expected["calls"][calls[four.key]]["leg"] == "offered"
    # The phone is in use: the state picked by hand waits for the call to end.
    assert expected["agent"]["state"] == "on_call"
    await converge(socket, state, expected)
    for console in (socket, fresh_socket, colleague_console):
        await console.close()


def _calls(org: Any) -> list[Any]:
    from contactcenter.models import Call

    return list(Call.objects.for_organization(org))


async def test_wallboard_snapshot_plus_events_equals_a_fresh_snapshot(desk: Any) -> None:
    board, first = await open_board(desk.supervisor)
    queues = {q["queue_id"]: q for q in first["queues"]}
    totals, online = first["totals"], set(first["online_agent_ids"])
    console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    me = desk.agent.interface
    for n in range(3):
        call = CallScript(caller=f"+1555000{n:04d}")
        await apply(desk.org, call.started(), call.queued(), call.offered(me))
        if n:
            await apply(desk.org, call.answered(me), call.completed(me), call.ended())
        else:
            await apply(desk.org, call.abandoned(), call.ended())
    await apply(desk.org, member_state(me, "support", paused=True))

    _, fresh = await open_board(desk.supervisor)
    expected = steady(
        {
            "queues": {q["queue_id"]: q for q in fresh["queues"]},
            "totals": fresh["totals"],
            "online": set(fresh["online_agent_ids"]),
        }
    )
    applied = 0
    while steady({"queues": queues, "totals": totals, "online": online}) != expected:
        await board.next(timeout=3)
        for message in board.messages[applied:]:
            if message["type"] == "wallboard.update":
                for queue in message["data"]["queues"]:
                    queues[queue["queue_id"]] = queue
                totals = message["data"]["totals"]
            elif message["type"] == "agent.presence":
                change = message["data"]
                (online.add if change["online"] else online.discard)(change["agent_id"])
        applied = len(board.messages)
    await console.close()
    await board.close()
