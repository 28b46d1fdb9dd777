"""Queue figures for consoles and wallboards, coalesced per process.

A burst of facts from the PBX is a burst of "queues changed" pings on the organization's
group. Each ping only marks queues dirty; the organization's feed flushes each lane at
most once per its interval (wallboards: ``REALTIME_COALESCE_MS``; agent consoles, whose
queue figures are a glance, not a wall: ``REALTIME_CONSOLE_COALESCE_MS``): at once when
it has been quiet for that long (so a lone change reaches the screen in milliseconds),
otherwise at the end of the interval. A flush computes each figure once for every
subscriber of its lane in the process (the figures are aggregate queries), instead of
once per console.

The pings themselves reach the process once: the organization's feed is the one member
of the queues group in this process (a channel of its own, joined while the process has
a subscriber), not each console. With the consoles in the group, channels-redis queued
one copy of every ping per console and the process popped them one by one: at 5,000
wallboards that alone took longer than the broadcast target (docs/benchmarks.md). If
the channel layer fails, the feed joins again with backoff and then refreshes every
queue, so no screen keeps figures from before the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from contactcenter.models import Organization
from contactcenter.selectors import screens
from contactcenter.selectors.wallboard import figures_by_queue, wallboard
from contactcenter.services.queue_alerts import queue_alerts_evaluate
from realtime import messages as msgs
from realtime.groups import queues_group
from realtime.layers import LAYER_LOST
from realtime.protocol import encode_data
from realtime.screens import render

logger = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
# Subscribers served between two turns of the event loop. A message on its way to a screen
# needs a few turns (the layer's read, the consumer, the socket write); at 64 a console
# flush held each turn long enough under load that call messages waited behind the queue
# figures of a thousand consoles, at 8 a fifth as long (docs/benchmarks.md: the figures
# the code's comments rest on).
FLUSH_SLICE = 8


class FeedUpdate:
    """The queues that changed, with their figures computed on first use and shared."""

    def __init__(self, organization_id: int, queue_ids: frozenset[int]) -> None:
        self.organization_id = organization_id
        self.queue_ids = queue_ids
        self.now = timezone.now()
        self._organization: Organization | None = None
        self._figures: list[Any] | None = None
        self._boards: dict[int | None, Any] = {}
        self._stats: dict[int, str] | None = None
        self._board_data: dict[int | None, str] = {}

    def _org(self) -> Organization:
        if self._organization is None:
            self._organization = screens.organization_by_id(organization_id=self.organization_id)
        return self._organization

    async def figures(self) -> list[Any]:
        """``figures_by_queue`` of the changed queues."""
        if self._figures is None:
            self._figures = await database_sync_to_async(self._load_figures)()
        return self._figures

    def _load_figures(self) -> list[Any]:
        return figures_by_queue(
            organization=self._org(), now=self.now, queue_ids=self.queue_ids, with_agents=False
        )

    async def board(self, scope: int | None) -> Any:
        """The ``wallboard`` of the whole floor (``None``) or of one queue."""
        if scope not in self._boards:
            self._boards[scope] = await database_sync_to_async(self._load_board)(scope)
        return self._boards[scope]

    def _load_board(self, scope: int | None) -> Any:
        queue_ids = None if scope is None else [scope]
        return wallboard(organization=self._org(), now=self.now, queue_ids=queue_ids)

    # Messages' data rendered and JSON-encoded once per update, for every socket alike.

    async def stats_data(self) -> dict[int, str]:
        """Each changed queue's ``queue.stats`` data (agent consoles), by queue id."""
        if self._stats is None:
            self._stats = {
                m.queue_id: encode_data(msgs.QueueStatsData(queue=render.queue_stats(m)))
                for m in await self.figures()
            }
        return self._stats

    async def judge_alerts(self) -> dict[int, datetime]:
        """Judge the changed queues' figures against their alert thresholds (raising and
        clearing alerts: contactcenter.services.queue_alerts); when to look again at
        which queue if nothing changes."""
        whole_floor = self._boards.get(None)
        if whole_floor is not None:  # a floor wallboard's figures: already computed
            figures = [m for m in whole_floor.queues if m.queue_id in self.queue_ids]
        else:
            figures = await self.figures()
        result = await database_sync_to_async(queue_alerts_evaluate)(
            organization_id=self.organization_id, figures=figures, now=self.now
        )
        return result.next_checks

    async def board_data(self, scope: int | None) -> str:
        """A wallboard's ``wallboard.update`` data for this update: the changed queues
        of its scope, and its totals."""
        if scope not in self._board_data:
            board = await self.board(scope)
            data = msgs.WallboardUpdateData(
                queues=[
                    render.queue_board(m) for m in board.queues if m.queue_id in self.queue_ids
                ],
                totals=render.board_totals(board.totals),
            )
            self._board_data[scope] = encode_data(data)
        return self._board_data[scope]


class Subscriber(Protocol):
    async def queues_updated(self, update: FeedUpdate) -> None: ...


class Lane:
    """The subscribers of one process served at one cadence (consoles, wallboards), with
    the queues changed since their last flush."""

    def __init__(self, feed: OrgFeed, every_ms: int) -> None:
        self.feed = feed
        self.every_ms = every_ms
        self.subscribers: set[Subscriber] = set()
        self.dirty: set[int] = set()
        self.task: asyncio.Task[None] | None = None
        self.last_flush = float("-inf")

    def mark(self, queue_ids: Iterable[int]) -> None:
        self.dirty.update(queue_ids)
        if self.dirty and self.task is None and self.subscribers:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.every_ms / 1000
        try:
            while self.dirty and self.subscribers:
                # A timer, not an event: this wait is the coalescing window itself.
                wait = self.last_flush + interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                queue_ids, self.dirty = frozenset(self.dirty), set()
                self.last_flush = loop.time()
                await self._flush(FeedUpdate(self.feed.organization_id, queue_ids))
        finally:
            self.task = None
            self.feed.lane_idle(self)  # the last subscriber may have left during the flush

    async def _flush(self, update: FeedUpdate) -> None:
        judge = False
        for index, subscriber in enumerate(list(self.subscribers)):
            judge = judge or getattr(subscriber, "judges_alerts", False)
            if index and not index % FLUSH_SLICE:
                # Let the loop run between slices: a call ringing on one console must not
                # wait for the figures of a thousand others to be written.
                await asyncio.sleep(0)
            try:
                await subscriber.queues_updated(update)
            except Exception:
                # One console's failure must not starve the others of their figures.
                logger.exception("queue feed: delivery to %r failed", subscriber)
        if judge:  # after the figures are out: an alert never holds up the board
            try:
                self.feed.check_later(await update.judge_alerts())
            except Exception:
                logger.exception("queue feed %s: judging alerts failed", self.feed.organization_id)


class OrgFeed:
    """An organization's queue figures in one process: one member of its queues group,
    one lane per cadence."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self.lanes: dict[int, Lane] = {}
        self.listener: asyncio.Task[None] | None = None
        self.listening: asyncio.Future[None] | None = None
        # Queues to judge again at a time (an alert's clearing, a wait crossing its
        # threshold) although nothing changes: one timer per queue.
        self.checks: dict[int, asyncio.TimerHandle] = {}

    async def listen(self) -> None:
        """Make sure this process hears the organization's pings; returns once it does
        (a subscriber takes its snapshot after that, so no change falls in between)."""
        if self.listener is None or self.listener.done():
            loop = asyncio.get_running_loop()
            self.listening = loop.create_future()
            self.listener = loop.create_task(self._listen(self.listening))
        assert self.listening is not None
        await asyncio.shield(self.listening)

    def stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            self.listener = None
        for handle in self.checks.values():
            handle.cancel()
        self.checks.clear()

    def check_later(self, checks: dict[int, datetime]) -> None:
        """Mark each queue again at its time (replacing the queue's earlier timer)."""
        loop = asyncio.get_running_loop()
        now = timezone.now()
        for queue_id, when in checks.items():
            old = self.checks.pop(queue_id, None)
            if old is not None:
                old.cancel()
            delay = max(0.0, (when - now).total_seconds())
            self.checks[queue_id] = loop.call_later(delay, self._check_due, queue_id)

    def _check_due(self, queue_id: int) -> None:
        self.checks.pop(queue_id, None)
        self.mark((queue_id,))

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"
        group = queues_group(self.organization_id)
        failures = 0
        while True:
            channel = ""
            keeper: asyncio.Task[None] | None = None
            try:
                channel = await layer.new_channel()
                await layer.group_add(group, channel)
                keeper = asyncio.get_running_loop().create_task(
                    self._keep_membership(layer, group, channel)
                )
                if not ready.done():
                    ready.set_result(None)
                if failures:
                    logger.info("queue feed %s: listening again", self.organization_id)
                    failures = 0
                    self.mark(await database_sync_to_async(self._all_queue_ids)())
                while True:
                    message = await layer.receive(channel)
                    if message.get("type") == "queues.changed":
                        self.mark(message.get("queue_ids") or ())
                    elif message.get("type") == LAYER_LOST:  # pings may be gone
                        self.mark(await database_sync_to_async(self._all_queue_ids)())
            except asyncio.CancelledError:
                raise
            except Exception:
                # The channel layer failed (Redis restarted...): consoles must not keep
                # stale figures, so join again and then refresh everything.
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.exception(
                    "queue feed %s: channel layer failed; again in %.1f s",
                    self.organization_id,
                    delay,
                )
                if not ready.done():
                    ready.set_result(None)  # subscribers go on; figures come after recovery
                await asyncio.sleep(delay)
            finally:
                if keeper is not None:
                    keeper.cancel()
                if channel:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(layer.group_discard(group, channel))

    @staticmethod
    async def _keep_membership(layer: Any, group: str, channel: str) -> None:
        # Group memberships expire (channels-redis ``group_expiry``, a day by default);
        # a process may listen for longer.
        every = max(60.0, getattr(layer, "group_expiry", 86400) / 2)
        while True:
            await asyncio.sleep(every)
            await layer.group_add(group, channel)

    def _all_queue_ids(self) -> list[int]:
        return screens.queue_ids_of(organization_id=self.organization_id)

    def mark(self, queue_ids: Iterable[int]) -> None:
        queue_ids = list(queue_ids)
        for lane in list(self.lanes.values()):
            lane.mark(queue_ids)

    def lane(self, every_ms: int) -> Lane:
        if every_ms not in self.lanes:
            self.lanes[every_ms] = Lane(self, every_ms)
        return self.lanes[every_ms]

    def lane_idle(self, lane: Lane) -> None:
        """A lane with no subscriber and no flush running goes; the feed with its last."""
        if lane.subscribers or lane.task is not None:
            return
        if self.lanes.get(lane.every_ms) is lane:
            del self.lanes[lane.every_ms]
        if not self.lanes:
            _forget(self)


# One set of feeds per event loop: Daphne runs one loop per process; tests run many.
_feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, OrgFeed]] = (
    weakref.WeakKeyDictionary()
)


def _org_feeds() -> dict[int, OrgFeed]:
    return _feeds.setdefault(asyncio.get_running_loop(), {})


async def subscribe(
    organization_id: int, subscriber: Subscriber, every_ms: int | None = None
) -> None:
    """Deliver the organization's queue figures to ``subscriber`` from now on, at most
    once per ``every_ms`` (default ``REALTIME_COALESCE_MS``) per queue."""
    feeds = _org_feeds()
    feed = feeds.get(organization_id)
    if feed is None:
        feed = feeds[organization_id] = OrgFeed(organization_id)
    feed.lane(every_ms or settings.REALTIME_COALESCE_MS).subscribers.add(subscriber)
    await feed.listen()


def unsubscribe(organization_id: int, subscriber: Subscriber) -> None:
    feed = _org_feeds().get(organization_id)
    if feed is None:
        return
    for lane in list(feed.lanes.values()):
        if subscriber in lane.subscribers:
            lane.subscribers.discard(subscriber)
            feed.lane_idle(lane)


def _forget(feed: OrgFeed) -> None:
    """No subscriber left in this process: leave the group, drop the feed."""
    feed.stop_listening()
    feeds = _org_feeds()
    if feeds.get(feed.organization_id) is feed:
        del feeds[feed.organization_id]


def mark(organization_id: int, queue_ids: Iterable[int]) -> None:
    """Queues of the organization changed: flush them to this process's subscribers."""
    feed = _org_feeds().get(organization_id)
    if feed is not None:
        feed.mark(queue_ids)


# -- the figures snapshots share ------------------------------------------------------------

# How long one read of the figures serves the snapshots that ask (a reconnect storm: one
# read for the thousand consoles that open within it, instead of one each). The figures
# that depend on the clock (the longest wait) are at most this old in a snapshot.
SNAPSHOT_FIGURES_SECONDS = 1.0


class SharedRead:
    """One read of an organization's figures, started at ``started`` (the loop's clock)."""

    def __init__(self, started: float, task: asyncio.Task[list[Any]]) -> None:
        self.started = started
        self.task = task

    def serves(self, lane: Lane, now: float) -> bool:
        """Whether a subscriber of ``lane`` may take it: younger than
        ``SNAPSHOT_FIGURES_SECONDS``, not failed, and no flush of the lane began since
        it started. A change committed after the read began is pinged after that; its
        flush begins later still, and every subscriber it finds hears of it. A
        subscriber that came after that flush began would not: it reads again."""
        if now - self.started > SNAPSHOT_FIGURES_SECONDS or lane.last_flush >= self.started:
            return False
        return not (self.task.done() and self.task.exception() is not None)


# Per lane: the shared reads by what they read ("figures", or a wallboard's scope).
_shared_reads: weakref.WeakKeyDictionary[Lane, dict[object, SharedRead]] = (
    weakref.WeakKeyDictionary()
)


async def _shared(
    organization_id: int, subscriber: Subscriber, key: object, load: Callable[[], Any]
) -> Any:
    """``load()`` in the database thread, or the result of the read of ``key`` that
    ``subscriber``'s lane already shares (``SharedRead.serves``)."""
    feed = _org_feeds().get(organization_id)
    lane = next(
        (lane for lane in (feed.lanes.values() if feed else ()) if subscriber in lane.subscribers),
        None,
    )
    if lane is None:
        raise RuntimeError("shared snapshot reads are for subscribers of the organization's feed")
    loop = asyncio.get_running_loop()
    reads = _shared_reads.setdefault(lane, {})
    shared = reads.get(key)
    if shared is None or not shared.serves(lane, loop.time()):
        shared = reads[key] = SharedRead(
            loop.time(), loop.create_task(database_sync_to_async(load)())
        )
    # Shielded: a socket that closes while it waits does not cancel the others' read.
    return await asyncio.shield(shared.task)


async def snapshot_figures(
    organization_id: int, subscriber: Subscriber, queue_ids: Iterable[int] | None = None
) -> list[Any]:
    """``figures_by_queue`` (no agent lists) of the active queues (of ``queue_ids``, or
    all), for the snapshot of ``subscriber``, which ``subscribe`` has made a subscriber of
    the organization's feed: the figures its lane's next flush brings are the ones it
    could not have in its snapshot (``SharedRead.serves``)."""
    figures = await _shared(
        organization_id, subscriber, "figures", lambda: _all_figures(organization_id)
    )
    if queue_ids is None:
        return list(figures)
    wanted = set(queue_ids)
    return [m for m in figures if m.queue_id in wanted]


async def snapshot_board(organization_id: int, subscriber: Subscriber, scope: int | None) -> Any:
    """The ``wallboard`` of the whole floor (``None``) or of one queue, for the snapshot
    of ``subscriber`` (as ``snapshot_figures``: one read for the wallboards that open
    together)."""
    return await _shared(
        organization_id, subscriber, ("board", scope), lambda: _board(organization_id, scope)
    )


def _all_figures(organization_id: int) -> list[Any]:
    organization = screens.organization_by_id(organization_id=organization_id)
    return figures_by_queue(organization=organization, now=timezone.now(), with_agents=False)


def _board(organization_id: int, scope: int | None) -> Any:
    organization = screens.organization_by_id(organization_id=organization_id)
    return wallboard(organization=organization, queue_ids=None if scope is None else [scope])
