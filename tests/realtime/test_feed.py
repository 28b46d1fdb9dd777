"""The queue figures that consoles' snapshots share (realtime.feed.snapshot_figures)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from realtime import feed
from tests.realtime.script import CallScript, apply
from tests.realtime.support import open_agent, open_board, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The organization ids of every read of the shared figures."""
    seen: list[int] = []
    real = feed._all_figures

    def counted(organization_id: int) -> list[Any]:
        seen.append(organization_id)
        return real(organization_id)

    monkeypatch.setattr(feed, "_all_figures", counted)
    return seen


def waiting(snapshot: dict[str, Any]) -> list[int]:
    return [q["callers_waiting"] for q in snapshot["queues"]]


async def test_consoles_opening_together_share_one_read(desk: Any, reads: list[int]) -> None:
    cookies = [
        await session_cookie(desk.agent_member.user),
        await session_cookie(desk.other_agent.user),
    ]
    opened = await asyncio.gather(*(open_agent(cookie) for cookie in cookies))
    assert reads == [desk.org.pk]
    (first, one), (second, two) = opened
    assert [q["queue_id"] for q in one["queues"]] == [desk.queue.pk]
    assert one["queues"] == two["queues"]
    await first.close()
    await second.close()


async def test_a_console_opening_after_a_flush_reads_again(desk: Any, reads: list[int]) -> None:
    first, snapshot = await open_agent(await session_cookie(desk.agent_member.user))
    assert waiting(snapshot) == [0]
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    # The flush has begun: the first console hears of the caller.
    await first.until(
        lambda f: f["type"] == "queue.stats" and f["data"]["queue"]["callers_waiting"] == 1
    )
    # Within the shared read's second, but after the flush: the read from before the
    # caller queued would be stale, and this console would never hear of the change.
    second, snapshot = await open_agent(await session_cookie(desk.other_agent.user))
    assert waiting(snapshot) == [1]
    assert len(reads) == 2
    await first.close()
    await second.close()


async def test_the_figures_are_only_for_the_feeds_subscribers(desk: Any) -> None:
    with pytest.raises(RuntimeError, match="subscribers"):
        await feed.snapshot_figures(desk.org.pk, object(), [desk.queue.pk])  # type: ignore[arg-type]


@pytest.fixture
def boards(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The scope of every read of a shared wallboard."""
    seen: list[int | None] = []
    real = feed._board

    def counted(organization_id: int, scope: int | None) -> Any:
        seen.append(scope)
        return real(organization_id, scope)

    monkeypatch.setattr(feed, "_board", counted)
    return seen


async def test_wallboards_share_a_read_per_scope_and_read_again_after_a_flush(
    desk: Any, boards: list[int | None]
) -> None:
    member = desk.supervisor
    opened = await asyncio.gather(open_board(member), open_board(member))
    assert boards == [None]
    (first, one), (second, two) = opened
    assert one["queues"] == two["queues"]
    third, scoped = await open_board(member, f"?queue={desk.queue.pk}")
    assert boards == [None, desk.queue.pk]
    assert [q["queue_id"] for q in scoped["queues"]] == [desk.queue.pk]

    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    await first.until(lambda f: f["type"] == "wallboard.update")
    fourth, later = await open_board(member)
    assert boards == [None, desk.queue.pk, None]
    assert [q["callers_waiting"] for q in later["queues"]] == [1]
    for socket in (first, second, third, fourth):
        await socket.close()
