"""agent.set_state against the PBX: wrap-up pauses the agent in their queues, and a
state picked during a call is acked as what the server keeps (issue 24)."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.transitions import AGENT_WRAP_UP_PAUSE_REASON
from tests.realtime.fakebridge import FakeBridge, connect_pbx
from tests.realtime.script import apply, member_state
from tests.realtime.support import open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


async def test_wrap_up_pauses_the_agent_in_the_pbx_and_available_unpauses(desk: Any) -> None:
    key = await connect_pbx(desk.org)
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    async with FakeBridge(desk.org.pk, key) as bridge:
        ack = await socket.command("agent.set_state", {"state": "wrap_up"})
        assert ack["data"]["result"]["agent"]["state"] == "wrap_up"
        assert ack["data"]["result"]["pbx"]["ok"] is True
        ack = await socket.command("agent.set_state", {"state": "available"}, id_="c2")
        assert ack["data"]["result"]["agent"]["state"] == "available"
    interface = desk.agent.interface
    assert bridge.received == [
        ("queue_pause", {"agent": interface, "paused": True, "reason": AGENT_WRAP_UP_PAUSE_REASON}),
        ("queue_pause", {"agent": interface, "paused": False, "reason": ""}),
    ]
    await socket.close()


async def test_a_state_picked_on_a_call_is_acked_as_the_call_state_and_queued_in_the_pbx(
    desk: Any,
) -> None:
    key = await connect_pbx(desk.org)
    interface = desk.agent.interface
    await apply(desk.org, member_state(interface, "support", device="in_use"))
    since = await sync(lambda: type(desk.agent).objects.get(pk=desk.agent.pk).state_changed_at)()
    socket, data = await open_agent(await session_cookie(desk.agent_member.user))
    snapshot = data["agent"]
    assert snapshot["state"] == "on_call"
    async with FakeBridge(desk.org.pk, key) as bridge:
        ack = await socket.command("agent.set_state", {"state": "available"})
        # Not "available": the call goes on, and so does its state, from its start.
        agent = ack["data"]["result"]["agent"]
        assert (agent["state"], agent["state_changed_at"]) == (
            "on_call",
            snapshot["state_changed_at"],
        )
        # The PBX is told, for after the call: no queue call is offered meanwhile anyway.
        assert ack["data"]["result"]["pbx"]["ok"] is True
        error = await socket.command("agent.set_state", {"state": "offline"}, id_="c2")
        assert error["type"] == "error"
        assert error["data"]["code"] == "on_call"
    assert bridge.received == [("queue_pause", {"agent": interface, "paused": False, "reason": ""})]
    stored = await sync(lambda: type(desk.agent).objects.get(pk=desk.agent.pk))()
    assert (stored.state, stored.state_changed_at) == ("on_call", since)
    await socket.close()


async def test_a_state_picked_on_the_console_is_audited_as_the_agents(desk: Any) -> None:
    from contactcenter.models import AuditEntry

    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    ack = await socket.command("agent.set_state", {"state": "paused", "reason": "lunch"})
    assert ack["type"] == "ack", ack
    await socket.close()
    entry = await sync(
        lambda: AuditEntry.objects.get(action="state_change", object_id=str(desk.agent.pk))
    )()
    assert (entry.actor_kind, entry.actor_user_id) == ("user", desk.agent_member.user.pk)
    assert entry.changes["state"][1] == "paused" and entry.request_id
