"""Publishing to the screens: realtime's sink for contactcenter.publish.

contactcenter hands over ids after commit (``contactcenter.publish``); this module turns
them into render jobs (``realtime.screens.changes``), renders each once (in the bridge,
in its rendering worker: ``Publisher``; elsewhere on commit, on the committing thread)
and sends the messages to the channel-layer groups (``realtime.send``). Call and agent
changes are only rendered for agents with a console connected (``realtime.presence``):
a floor of agents with no browser open costs the publisher one presence read. A
failure is logged by contactcenter.publish's robust on-commit hand-off and never
reaches the caller, whose data is committed. ``RealtimeConfig.ready`` installs the sink.

Groups and what goes to them (docs/realtime-protocol.md has the messages):

- ``agent.<id>``: ``agent.state``, ``agent.presence``, ``call.*``, ``case.created``
- ``floor.<organization id>``: ``agent.presence`` (for wallboards and supervisor pages)
- ``supervisors.<organization id>``: ``floor.changed`` (internal: each supervisor page
  reads the floor again, coalesced)
- ``alerts.<organization id>``: ``alert.raised``, ``alert.cleared`` (wallboards)
- ``user.<id>``: ``notification.created``, ``notification.read``
- ``agent.<id>`` of a queue's members: ``voicemail.updated``
- ``sockets.<user id>``: ``session.revoked`` (internal: the socket closes with 4401)
- ``queues.<organization id>``: ``queues.changed`` (internal: each server process's
  ``realtime.feed`` is the one member, computes the figures once, coalesced, and hands
  them to its consoles and wallboards)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from django.db import connection

from realtime import messages as msgs
from realtime import metrics, render_worker
from realtime.groups import user_group, user_sockets_group
from realtime.screens import alerts, changes, floor
from realtime.send import Message, message, send, send_all

logger = logging.getLogger(__name__)

SEND_SECONDS = 10.0  # the background publisher's bound on sending one job's messages


Render = Callable[..., list[Message]]
Job = tuple[Render, tuple[Any, ...]]


class Publisher:
    """Publishing beside the writer, not in its way (the bridge installs one): its next
    batch is written while the last one's messages are rendered and sent.

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
            # The next jobs are rendered while these messages go out, after the last ones.
            if sending is not None:
                await sending
            sending = self._loop.create_task(self._send(rendered, queued[0][0], len(jobs)))

    async def _send(self, rendered: list[list[Message]], since: float, jobs: int) -> None:
        try:
            for messages in rendered:
                # Bounded: a channel-layer connection that died without a word (Redis
                # restarted) must cost these messages, not every message after them.
                await asyncio.wait_for(send_all(messages), SEND_SECONDS)
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
    together, at the place of the first: messages are rendered from the rows as they are
    now, so this is what one bigger batch would have published. It keeps a publisher
    that fell behind from staying behind."""
    out: list[Job] = []
    at: dict[tuple[Any, ...], int] = {}
    for job, args in jobs:
        if job is changes.publish_changes:
            organization_id, calls, agents, queues, forced_type = args
            key = (organization_id, forced_type)
            if key in at:
                _, (_, seen_calls, seen_agents, seen_queues, _) = out[at[key]]
                merged = (seen_calls | calls, seen_agents | agents, seen_queues | queues)
                out[at[key]] = (job, (organization_id, *merged, forced_type))
                continue
            at[key] = len(out)
        elif job is floor.floor_ping:
            # One "the floor changed" per organization is as good as many: the pages read
            # the floor after every job that waited with it has committed.
            if ("floor", *args) in at:
                continue
            at[("floor", *args)] = len(out)
        out.append((job, args))
    return out


_publisher: Publisher | None = None


async def install_publisher() -> Publisher:
    """From now on this process publishes in the background (see ``Publisher``); returns
    once the rendering worker is up, so the first messages do not wait for it to start
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


def _hand_over(job: Render, *args: Any) -> None:
    """Render the messages (``job(*args)``) and send them: here, or by the process's
    background ``Publisher`` when one is installed (the bridge)."""
    if _publisher is not None:
        _publisher.submit(job, args)
    else:
        send(job(*args))


class ScreenSink:
    """What contactcenter.publish hands over after commit, as render jobs."""

    def changes(
        self,
        organization_id: int,
        call_ids: frozenset[int],
        agent_ids: frozenset[int],
        queue_ids: frozenset[int],
        edited: bool,
    ) -> None:
        forced_type = "call.updated" if edited else None
        _hand_over(
            changes.publish_changes, organization_id, call_ids, agent_ids, queue_ids, forced_type
        )
        if (call_ids or agent_ids or queue_ids) and not edited:
            # A person's edit (notes, a disposition) is nothing the floor shows; a
            # monitoring session that changes the agent's call pings on its own.
            self.floor_changed(organization_id)

    def agent_state_changed(self, organization_id: int, agent_id: int) -> None:
        _hand_over(changes.publish_agent, organization_id, agent_id)
        self.floor_changed(organization_id)

    def floor_changed(self, organization_id: int) -> None:
        # One small message; the supervisor pages coalesce them (a burst is one read).
        _hand_over(floor.floor_ping, organization_id)

    def case_created(self, case_id: int) -> None:
        _hand_over(changes.publish_case, case_id)

    def notification_created(self, notification_id: int) -> None:
        _hand_over(changes.publish_notification, notification_id)

    def notification_read(self, user_id: int, notification_id: int, read_at: datetime) -> None:
        data = msgs.NotificationReadData(notification_id=notification_id, read_at=read_at)
        _hand_over(changes.given, [(user_group(user_id), message("notification.read", data))])

    def voicemails_changed(self, organization_id: int, voicemail_ids: frozenset[int]) -> None:
        _hand_over(changes.publish_voicemails, organization_id, voicemail_ids)

    def sessions_revoked(self, user_ids: frozenset[int]) -> None:
        revoked = {"type": "session.revoked"}
        _hand_over(changes.given, [(user_sockets_group(pk), revoked) for pk in sorted(user_ids)])

    def queue_alerts_changed(self, organization_id: int, alert_ids: frozenset[int]) -> None:
        _hand_over(alerts.publish_queue_alerts, organization_id, sorted(alert_ids))

    async def start_background(self) -> None:
        await install_publisher()

    async def stop_background(self) -> None:
        await uninstall_publisher()
