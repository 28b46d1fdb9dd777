"""The one place that publishes to the channel layer: after commit, from services.

Services call the functions below inside their transaction; each registers an
``on_commit`` callback, so nothing is published for a change that rolls back and every
frame is rendered from committed rows. Rendering happens once per change
(``contactcenter.frames``; in the bridge, in its rendering worker: ``Publisher``), not
in each console. Call and agent frames are only rendered for agents with a console
connected (``realtime.presence``): a floor of agents with no browser open costs the
publisher one presence read. Publishing
must never undo or fail the change it reports, so the callbacks are registered
``robust`` (a failure is logged).

Groups and what goes to them (docs/realtime-protocol.md has the frames):

- ``agent.<id>``: ``agent.state``, ``agent.presence``, ``call.*``, ``case.created``
- ``floor.<organization id>``: ``agent.presence`` (for wallboards)
- ``user.<id>``: ``notification.created``, ``notification.read``
- ``sockets.<user id>``: ``session.revoked`` (internal: the socket closes with 4401)
- ``queues.<organization id>``: ``queues.changed`` (internal: each server process's
  ``realtime.feed`` is the one member, computes the figures once, coalesced, and hands
  them to its consoles and wallboards)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from contactcenter import frames, render_worker
from contactcenter.models import Agent, Call
from realtime import messages as ev
from realtime import metrics
from realtime.groups import agent_group, floor_group, user_group, user_sockets_group

if TYPE_CHECKING:
    from crm.models import Case, Notification

logger = logging.getLogger(__name__)

Message = frames.Message

SEND_SECONDS = 10.0  # the background publisher's bound on sending one job's frames


Render = Callable[..., list["Message"]]
Job = tuple[Render, tuple[Any, ...]]


def _after_commit(job: Render, *args: Any) -> None:
    """Once the transaction commits, render the messages (``job(*args)``) and send them:
    here, or by the process's background ``Publisher`` when one is installed (the
    bridge). A failure (the channel layer down) is logged and never reaches the caller,
    whose data is committed. A named callback rather than a functools.partial: Django's
    robust handler logs the callback's ``__qualname__``, which a partial lacks, and the
    AttributeError would escape and skip the callbacks after it."""

    def after_commit() -> None:
        if _publisher is not None:
            _publisher.submit(job, args)
        else:
            _send(job(*args))

    functools.update_wrapper(after_commit, job)
    transaction.on_commit(after_commit, robust=True)


class Publisher:
    """Publishing beside the writer, not in its way (the bridge installs one): its next
    batch is written while the last one's frames are rendered and sent.

    Jobs run in commit order, one at a time. Each is rendered in a worker process of its
    own (its own interpreter lock and database connection; it reads committed rows) and
    the messages are sent on the event loop that installed the publisher, in order, while
    the next jobs are rendered. A worker that dies is replaced and its job tried once
    more. ``install`` from that loop; ``drain`` before it stops.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._jobs: asyncio.Queue[tuple[float, Job]] = asyncio.Queue()
        self._renderer = self._start_worker()
        self._task = self._loop.create_task(self._run())

    @staticmethod
    def _start_worker() -> ProcessPoolExecutor:
        # Spawned, not forked: a fork would share this process's open database and Redis
        # sockets. The worker uses this process's database (a test run's included).
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=render_worker.setup,
            initargs=(connection.settings_dict["NAME"],),
        )

    def worker_pids(self) -> list[int]:
        """The rendering worker's process id (none until its first job)."""
        processes = self._renderer._processes.values()
        return [process.pid for process in processes if process.pid is not None]

    def submit(self, job: Render, args: tuple[Any, ...]) -> None:
        """Thread-safe: called by the writer's thread as its transaction commits."""
        self._loop.call_soon_threadsafe(self._jobs.put_nowait, (time.monotonic(), (job, args)))

    async def _run(self) -> None:
        sending: asyncio.Task[None] | None = None
        while True:
            queued = [await self._jobs.get()]
            while not self._jobs.empty():  # what piled up while the last ones were rendered
                queued.append(self._jobs.get_nowait())
            jobs = [job for _, job in queued]
            try:
                rendered = await self._render(_coalesce(jobs))
            except Exception:
                logger.exception("rendering %d jobs failed", len(jobs))
                self._done(jobs)
                continue
            # The next jobs are rendered while these frames go out, after the last ones.
            if sending is not None:
                await sending
            sending = self._loop.create_task(self._send(rendered, queued[0][0], len(jobs)))

    async def _send(self, rendered: list[list[Message]], since: float, jobs: int) -> None:
        try:
            for messages in rendered:
                # Bounded: a channel-layer connection that died without a word (Redis
                # restarted) must cost these frames, not every frame after them.
                await asyncio.wait_for(_send_all(messages), SEND_SECONDS)
            metrics.PUBLISH_LAG.observe(time.monotonic() - since)
        except Exception:
            logger.exception("publishing %d jobs failed", jobs)
        finally:
            self._done(range(jobs))

    def _done(self, jobs: Iterable[Any]) -> None:
        for _ in jobs:
            self._jobs.task_done()

    async def _render(self, jobs: list[Job]) -> list[list[Message]]:
        try:
            return await self._loop.run_in_executor(self._renderer, render_worker.render, jobs)
        except BrokenProcessPool:
            logger.warning("publisher: the rendering worker died; starting another")
            self._renderer.shutdown(wait=False)
            self._renderer = self._start_worker()
            return await self._loop.run_in_executor(self._renderer, render_worker.render, jobs)

    async def drain(self) -> None:
        """Wait until every job submitted so far is sent; then stop."""
        await self._jobs.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._renderer.shutdown(wait=True)


def _coalesce(jobs: list[Job]) -> list[Job]:
    """Changes of the same organization (and kind) that waited together are rendered
    together, at the place of the first: frames are rendered from the rows as they are
    now, so this is what one bigger batch would have published. It keeps a publisher
    that fell behind from staying behind."""
    out: list[Job] = []
    at: dict[tuple[Any, ...], int] = {}
    for job, args in jobs:
        if job is frames.publish_changes:
            organization_id, calls, agents, queues, forced_type = args
            key = (organization_id, forced_type)
            if key in at:
                _, (_, seen_calls, seen_agents, seen_queues, _) = out[at[key]]
                merged = (seen_calls | calls, seen_agents | agents, seen_queues | queues)
                out[at[key]] = (job, (organization_id, *merged, forced_type))
                continue
            at[key] = len(out)
        out.append((job, args))
    return out


_publisher: Publisher | None = None


async def install_publisher() -> Publisher:
    """From now on this process publishes in the background (see ``Publisher``); returns
    once the rendering worker is up, so the first frames do not wait for it to start
    (and reach the screens as the rows were, not as they are a second later)."""
    global _publisher
    publisher = Publisher()
    await publisher._render([])
    _publisher = publisher
    return publisher


async def uninstall_publisher() -> None:
    """Back to publishing on commit, once what was submitted is sent."""
    global _publisher
    publisher, _publisher = _publisher, None
    if publisher is not None:
        await publisher.drain()


def changes_committed(
    *,
    organization_id: int,
    call_ids: Iterable[int] = (),
    agent_ids: Iterable[int] = (),
    queue_ids: Iterable[int] = (),
) -> None:
    """Calls, agents and queues changed (telephony_apply's result, or one person's edit)."""
    _after_commit(
        frames.publish_changes,
        organization_id,
        frozenset(call_ids),
        frozenset(agent_ids),
        frozenset(queue_ids),
        None,
    )


def call_edited(*, call: Call) -> None:
    """A person changed a call's record (disposition, notes): ``call.updated``."""
    _after_commit(
        frames.publish_changes,
        call.organization_id,
        frozenset({call.pk}),
        frozenset(),
        frozenset(),
        "call.updated",
    )


def agent_changed(*, agent: Agent) -> None:
    """An agent's state changed: ``agent.state``, and the figures of their queues."""
    _after_commit(frames.publish_agent, agent.organization_id, agent.pk)


def notification_created(*, notification: Notification) -> None:
    _after_commit(frames.publish_notification, notification.pk)


def notification_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        return
    data = ev.NotificationReadData(notification_id=notification.pk, read_at=notification.read_at)
    message = (user_group(notification.user_id), frames.message("notification.read", data))
    _after_commit(frames.given, [message])


def case_created(*, case: Case) -> None:
    """To the assigned agent and the agent of the call the case came from."""
    _after_commit(frames.publish_case, case.pk)


def sessions_revoked(*, user_ids: Iterable[int]) -> None:
    """The users' sessions were revoked (contactcenter.services.sessions): every socket
    of theirs closes. After commit, so a socket that reconnects at once is refused."""
    messages = [(user_sockets_group(user_id), {"type": "session.revoked"}) for user_id in user_ids]
    _after_commit(frames.given, messages)


async def agent_presence(*, organization_id: int, agent_id: int, online: bool) -> None:
    """Presence is not a database change: realtime.presence announces it directly."""
    data = ev.AgentPresenceData(agent_id=agent_id, online=online)
    message = frames.message("agent.presence", data)
    await _send_all([(agent_group(agent_id), message), (floor_group(organization_id), message)])


# -- sending ------------------------------------------------------------------------------


def _send(messages: list[Message]) -> None:
    if messages:
        async_to_sync(_send_all)(messages)


async def _send_all(messages: list[Message]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if hasattr(layer, "group_send_many"):  # ours (realtime.layers): one round trip, in order
        await layer.group_send_many(messages)
        return
    # Frames to one group keep their order; different groups are sent concurrently.
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for group, message in messages:
        by_group[group].append(message)

    async def send_in_order(group: str, queue: list[dict[str, Any]]) -> None:
        for message in queue:
            await layer.group_send(group, message)

    await asyncio.gather(*(send_in_order(g, q) for g, q in by_group.items()))
