"""The wallboard stream: per-queue figures pushed as events happen, coalesced."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any

import pytest
from channels.layers import get_channel_layer

from contactcenter.enums import CallStatus
from realtime.groups import queues_group
from tests.factories import make_call, make_queue
from tests.realtime.script import CallScript, apply
from tests.realtime.support import (
    Socket,
    open_agent,
    open_board,
    session_cookie,
    steady,
    sync,
)

pytestmark = pytest.mark.django_db(transaction=True)


def queue_in(message: dict[str, Any], queue_id: int) -> dict[str, Any] | None:
    """The queue's figures in a ``wallboard.update`` message (None: not in it)."""
    if message["type"] != "wallboard.update":
        return None
    return next((q for q in message["data"]["queues"] if q["queue_id"] == queue_id), None)


def figures_for(queue_id: int, **expected: Any) -> Any:
    def match(message: dict[str, Any]) -> bool:
        queue = queue_in(message, queue_id)
        return queue is not None and all(queue[k] == v for k, v in expected.items())

    return match


async def test_snapshot_and_live_figures(desk: Any) -> None:
    board, snapshot = await open_board(desk.supervisor)
    assert snapshot["scope"] == {"queue_id": None}
    assert snapshot["time_zone"] == "UTC"
    assert [q["queue_id"] for q in snapshot["queues"]] == [desk.queue.pk]
    assert {a["agent_id"] for a in snapshot["queues"][0]["agents"]} == {
        desk.agent.pk,
        desk.other_agent.pk,
    }
    assert snapshot["totals"]["callers_waiting"] == 0
    assert snapshot["online_agent_ids"] == []

    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    update = await board.until(figures_for(desk.queue.pk, callers_waiting=1, offered=1))
    assert update["data"]["totals"]["callers_waiting"] == 1  # the totals in the same message

    await apply(desk.org, call.answered(desk.agent.interface))
    message = await board.until(figures_for(desk.queue.pk, callers_waiting=0, answered=1))
    assert queue_in(message, desk.queue.pk)["service_level_percent"] == 100.0  # type: ignore[index]
    await board.close()


async def test_a_burst_is_coalesced(desk: Any, settings: Any) -> None:
    settings.REALTIME_COALESCE_MS = 300
    board, _ = await open_board(desk.supervisor)
    burst = 10
    for _ in range(burst):  # ten commits, ten "queues changed" pings
        call = CallScript()
        await apply(desk.org, call.started(), call.queued())
    await board.until(figures_for(desk.queue.pk, callers_waiting=burst))
    await board.drain()
    messages = [f for f in board.messages if queue_in(f, desk.queue.pk)]
    waiting = [queue_in(f, desk.queue.pk)["callers_waiting"] for f in messages]  # type: ignore[index]
    assert len(messages) < burst / 2, waiting
    stamps = [datetime.fromisoformat(f["ts"]) for f in messages]
    for earlier, later in itertools.pairwise(stamps):
        # One message per interval (computing the figures may shift a message a little).
        assert (later - earlier).total_seconds() >= 0.15
    # The last message holds what a fresh wallboard shows.
    _, fresh = await open_board(desk.supervisor)
    assert steady(queue_in(messages[-1], desk.queue.pk)) == steady(fresh["queues"][0])
    await board.close()


async def test_consoles_hear_queue_figures_at_their_own_slower_cadence(
    desk: Any, settings: Any
) -> None:
    """Agent consoles glance at queue figures; wallboards watch them. Both lanes share
    the process's one membership of the queues group; each keeps its own interval."""
    settings.REALTIME_COALESCE_MS = 50
    settings.REALTIME_CONSOLE_COALESCE_MS = 500
    board, _ = await open_board(desk.supervisor)
    agent, _ = await open_agent(await session_cookie(desk.agent_member.user))
    assert len(get_channel_layer().groups[queues_group(desk.org.pk)]) == 1
    burst = 8
    for _ in range(burst):
        call = CallScript()
        await apply(desk.org, call.started(), call.queued())
    await board.until(figures_for(desk.queue.pk, callers_waiting=burst))
    last = await agent.until(
        lambda f: f["type"] == "queue.stats" and f["data"]["queue"]["callers_waiting"] == burst
    )
    assert last["data"]["queue"]["queue_id"] == desk.queue.pk
    await agent.drain()
    stats = [f for f in agent.messages if f["type"] == "queue.stats"]
    stamps = [datetime.fromisoformat(f["ts"]) for f in stats]
    for earlier, later in itertools.pairwise(stamps):
        assert (later - earlier).total_seconds() >= 0.4, [str(s) for s in stamps]
    for socket in (board, agent):
        await socket.close()


async def test_a_queue_wallboard_hears_only_its_queue(desk: Any) -> None:
    sales = await sync(make_queue)(desk.org, "sales")
    board, snapshot = await open_board(desk.supervisor, f"?queue={sales.pk}")
    assert [q["queue_id"] for q in snapshot["queues"]] == [sales.pk]
    support_call = CallScript(queue="support")
    await apply(desk.org, support_call.started(), support_call.queued())
    assert [f for f in await board.drain() if f["type"] != "agent.presence"] == []
    sales_call = CallScript(queue="sales")
    await apply(desk.org, sales_call.started(), sales_call.queued())
    update = await board.until(figures_for(sales.pk, callers_waiting=1))
    assert [q["queue_id"] for q in update["data"]["queues"]] == [sales.pk]
    assert update["data"]["totals"]["callers_waiting"] == 1  # this queue's, not the floor's
    await board.close()


async def test_tenants_never_hear_each_other(desk: Any, floor_b: Any) -> None:
    """Org B's wallboard and agent console stay silent while org A's floor is busy."""
    foreign_queue = await sync(make_queue)(floor_b.org, "support")
    board_b, snapshot_b = await open_board(floor_b.supervisor)
    assert [q["queue_id"] for q in snapshot_b["queues"]] == [foreign_queue.pk]
    console_b, _ = await open_agent(await session_cookie(floor_b.agent_member.user))
    board_a, _ = await open_board(desk.supervisor)
    console_a, _ = await open_agent(await session_cookie(desk.agent_member.user))
    await board_a.until(lambda f: f["type"] == "agent.presence")

    call = CallScript(queue="support")  # the same PBX queue name in both organizations
    me = desk.agent.interface
    await apply(desk.org, call.started(), call.queued(), call.offered(me), call.answered(me))
    await console_a.until(lambda f: f["type"] == "call.answered")
    await board_a.until(figures_for(desk.queue.pk, answered=1))
    ack = await console_a.command("agent.set_state", {"state": "available"})
    assert ack["type"] == "ack"

    heard_b = await board_b.drain() + await console_b.drain()
    assert [f["type"] for f in heard_b if f["type"] != "agent.presence"] == []
    # B's wallboard only ever heard of B's own agent coming online.
    assert {f["data"]["agent_id"] for f in heard_b} <= {floor_b.agent.pk}
    for socket in (board_a, board_b, console_a, console_b):
        await socket.close()


async def test_the_process_hears_the_queues_group_once_for_all_its_screens(desk: Any) -> None:
    """However many consoles and wallboards a process holds, it is one member of the
    organization's queues group (one copy of each ping, not one per screen), and every
    screen still gets the figures; the membership ends with the last screen."""
    layer = get_channel_layer()
    group = queues_group(desk.org.pk)
    boards = [(await open_board(desk.supervisor))[0] for _ in range(3)]
    agent, _ = await open_agent(await session_cookie(desk.agent_member.user))
    assert len(layer.groups.get(group, {})) == 1

    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    for board in boards:
        await board.until(figures_for(desk.queue.pk, callers_waiting=1))
    await agent.until(lambda f: f["type"] == "queue.stats")

    for socket in [*boards, agent]:
        await socket.close()
    for _ in range(100):  # the feed leaves as it is cancelled: a few loop turns
        if not layer.groups.get(group):
            break
        await asyncio.sleep(0.01)
    assert not layer.groups.get(group)


def _waiting_call(desk: Any) -> None:
    call = make_call(desk.org, queue=desk.queue, status=CallStatus.QUEUED)
    call.queued_at = call.started_at
    call.save(update_fields=["queued_at"])


async def test_after_a_channel_layer_failure_the_feed_refreshes_every_queue(
    desk: Any, monkeypatch: Any
) -> None:
    """A change whose ping was lost while the channel layer failed still reaches the
    wallboard: the feed joins the group again and then pushes every queue's figures."""
    layer = get_channel_layer()
    group = queues_group(desk.org.pk)
    board, snapshot = await open_board(desk.supervisor)
    assert snapshot["queues"][0]["callers_waiting"] == 0
    (feed_channel,) = layer.groups[group]
    real_receive = layer.receive
    failed = asyncio.Event()

    async def receive(channel: str) -> Any:
        if channel == feed_channel and not failed.is_set():
            failed.set()
            raise ConnectionError("the channel layer went away")
        return await real_receive(channel)

    # A caller joins the queue, and no ping says so (stored without publishing).
    await sync(_waiting_call)(desk)
    monkeypatch.setattr(layer, "receive", receive)
    await layer.group_send(group, {"type": "nothing.to.see"})  # the feed's next receive fails
    await failed.wait()
    message = await board.until(figures_for(desk.queue.pk, callers_waiting=1))
    assert queue_in(message, desk.queue.pk) is not None
    assert set(layer.groups[group]) - {feed_channel}, "joined again, with a new channel"
    await board.close()


async def test_figures_that_land_while_the_snapshot_is_read_come_after_it(
    desk: Any, settings: Any, monkeypatch: Any
) -> None:
    """The feed calls a screen directly, not through its message loop, so a flush can land
    while the snapshot is being read. Its figures must not come before the snapshot; they
    are computed again and sent after it."""
    from asgiref.sync import async_to_sync

    from realtime import feed
    from realtime.consumers import wallboard as consumer_module

    read_snapshot = consumer_module.wallboard_snapshot

    async def flush_now() -> None:
        lane = feed._org_feeds()[desk.org.pk].lane(settings.REALTIME_COALESCE_MS)
        feed.mark(desk.org.pk, [desk.queue.pk])
        assert lane.task is not None
        await asyncio.shield(lane.task)

    def snapshot_with_a_flush(*args: Any, **kwargs: Any) -> Any:
        data = read_snapshot(*args, **kwargs)
        async_to_sync(flush_now)()  # on the server's loop, while this read is in progress
        return data

    monkeypatch.setattr(consumer_module, "wallboard_snapshot", snapshot_with_a_flush)
    board = Socket("/ws/wallboard/", cookie=await session_cookie(desk.supervisor.user))
    connected, code = await board.open()
    assert connected, code
    await board.until(figures_for(desk.queue.pk))
    kinds = [f["type"] for f in board.messages]
    assert kinds[:3] == ["hello", "snapshot", "wallboard.update"], kinds
    await board.close()
