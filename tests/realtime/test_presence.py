"""Presence: online while a console is open; reloads and brief drops do not flap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from realtime import presence
from tests.realtime.support import Socket, open_agent, open_board, presence_of, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def presence_messages(socket: Socket) -> list[Any]:
    return [f["data"] for f in socket.of_type("agent.presence")]


async def test_online_while_a_console_is_open(floor_a: Any, settings: Any) -> None:
    settings.REALTIME_PRESENCE_GRACE_SECONDS = 0.3
    agent = floor_a.agent.pk
    board, snapshot = await open_board(floor_a.supervisor)
    assert snapshot["online_agent_ids"] == []
    cookie = await session_cookie(floor_a.agent_member.user)
    first, _ = await open_agent(cookie)
    await board.until(presence_of(agent, True))
    _, fresh = await open_board(floor_a.supervisor)
    assert fresh["online_agent_ids"] == [agent]

    # A second tab, then one of two closed: still online, nothing announced.
    second, _ = await open_agent(cookie)
    await first.close()
    assert presence_messages(board) + [f["data"] for f in await board.drain(0.6)] == [
        {"agent_id": agent, "online": True}
    ]
    # A reload of the last tab within the grace period: no flap.
    await second.close()
    third, snapshot = await open_agent(cookie)
    assert snapshot["online"] is True
    assert [f for f in await board.drain(0.6) if f["type"] == "agent.presence"] == []
    # The last tab closes for good: offline once the grace period is over.
    await third.close()
    await board.until(presence_of(agent, False), timeout=2)
    assert await presence.is_online(agent) is False
    _, fresh = await open_board(floor_a.supervisor)
    assert fresh["online_agent_ids"] == []
    await board.close()


async def test_the_heartbeat_keeps_a_quiet_console_online(floor_a: Any, settings: Any) -> None:
    settings.REALTIME_PRESENCE_TTL_SECONDS = 0.3  # refreshed every 0.1 s
    socket, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    await asyncio.sleep(0.9)  # three lifetimes of an entry nobody refreshes
    assert await presence.is_online(floor_a.agent.pk)
    assert presence.online_agents(floor_a.org.pk) == {floor_a.agent.pk}
    await socket.close()


async def test_one_heartbeat_refreshes_every_console_of_the_process(
    floor_a: Any, settings: Any, monkeypatch: Any
) -> None:
    """The process beats once for all its consoles (one store call, so one Redis round
    trip), not once per console."""
    settings.REALTIME_PRESENCE_TTL_SECONDS = 0.3
    store = presence.store()
    calls: list[list[Any]] = []
    touch = store.touch

    async def counted(consoles: Any) -> None:
        calls.append(list(consoles))
        await touch(consoles)

    first, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    second, _ = await open_agent(await session_cookie(floor_a.other_agent.user))
    monkeypatch.setattr(store, "touch", counted)
    await asyncio.sleep(0.9)  # three lifetimes of an entry nobody refreshes
    assert presence.online_agents(floor_a.org.pk) == {floor_a.agent.pk, floor_a.other_agent.pk}
    assert calls and all(len(beat) == 2 for beat in calls), calls
    await first.close()
    await second.close()
    assert presence.heart().consoles == {}


async def test_an_entry_nobody_refreshes_expires(settings: Any) -> None:
    """A server process that dies leaves entries that expire on their own."""
    settings.REALTIME_PRESENCE_TTL_SECONDS = 0.2
    store = presence.store()
    await store.touch([(1, 42, "gone-process-channel")])
    assert presence.online_agents(1) == {42}
    assert presence.online_among(1, [41, 42]) == {42}
    assert presence.anyone_online(1)
    await asyncio.sleep(0.3)
    assert await store.live(42) == 0
    assert presence.online_agents(1) == set()
    assert presence.online_among(1, [41, 42]) == set()
    assert not presence.anyone_online(1)
