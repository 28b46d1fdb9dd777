"""The AMI bridge: one PBX connection in, call and agent records out.

Two tasks per connection. The supervisor connects (through AmiSession), logs in,
watches pings with a deadline and reconnects with exponential backoff. The consumer
takes events off one queue in arrival order, translates them and applies them to the
database in batches (one transaction per batch): a burst of events costs a few
statements, not one commit each. Every (re)connect and every FullyBooted goes through
the same queue as a resync, so the snapshot lands exactly between the events before
and after it. A database outage holds the batch and retries it; the dedup keys make
the retry safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections

from config.db.work import BROKEN, run_retrying
from contactcenter import facts as te
from contactcenter.models import Agent
from contactcenter.services.telephony import ApplyResult, telephony_apply
from telephony import metrics
from telephony.ami.callback_request import EDGE_MARK as CALLBACK_MARK
from telephony.ami.callback_request import EVENT as CALLBACK_EVENT
from telephony.ami.callbacks import CallbackDesk
from telephony.ami.client import AmiError, AmiSession, LoginFailed
from telephony.ami.desk import CommandDesk
from telephony.ami.fields import timestamp
from telephony.ami.handoff import Pending
from telephony.ami.recorder import Recorder
from telephony.ami.recording import FILENAME_VARIABLE
from telephony.ami.resync import resync_agents, resync_calls
from telephony.ami.targets import BridgeTarget, dial_endpoint
from telephony.ami.translator import DISPOSITION_VARIABLE, Translator
from telephony.ami.voicemail import FILE_VARIABLE, STATUS_VARIABLE
from telephony.cel.catchup import catch_up
from telephony.egress import TargetRefused

logger = logging.getLogger(__name__)

_RESYNC = object()  # a marker in the event queue: take a snapshot here
# Raw-text tests at the socket's edge, before a message is built: a dialplan emits tens
# of VarSets per call and only the disposition, recording and voicemail variables are read.
# (Upper-cased once and searched with `in`: a case-insensitive regular expression over
# the whole message cost many times more, on the commonest event of a dialplan stream.)
_KEPT_VARIABLES = tuple(
    name.upper()
    for name in (DISPOSITION_VARIABLE, FILENAME_VARIABLE, FILE_VARIABLE, STATUS_VARIABLE)
)


def _kept_variable(raw: str) -> bool:
    upper = raw.upper()
    return any(name in upper for name in _KEPT_VARIABLES)


_EDGE_CHECKS = {
    "VarSet": _kept_variable,
    # The dialplan may raise user events of its own: only the callback request is read.
    CALLBACK_EVENT: lambda raw: CALLBACK_MARK in raw.upper(),
}


@dataclass
class _Snapshot:
    """The replies of one resync, gathered as they come through the queue."""

    channels_id: str
    status_id: str
    lists: dict[str, list[Any]]
    at: datetime | None = None
    ping_id: str = ""  # its reply's Timestamp: the PBX's clock at the snapshot, exactly
    pbx_time: datetime | None = None


@dataclass
class BridgeStats:
    connected: bool = False
    connects: int = 0
    events_received: int = 0
    facts_applied: int = 0
    batches: int = 0
    resyncs: int = 0
    translate_errors: int = 0
    dials_refused: int = 0  # connects the operator's target policy did not allow
    cel_backfills: int = 0  # outage windows read from the PBX's CEL (telephony/cel/)
    cel_facts: int = 0
    cel_calls_created: int = 0
    cel_calls_completed: int = 0
    cel_errors: int = 0
    last_error: str = ""


@dataclass
class BridgeSettings:
    batch_max: int = 5000
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    resync_wait: float = 2.0  # with no FullyBooted after login, resync anyway
    agents_refresh: float = 5.0
    action_timeout: float = 10.0
    dial_context: str = "from-internal"  # where click-to-call and transfers dial
    callback_tick: float = 2.0  # how often callbacks are looked after (callbacks.py)


class AmiBridge:
    def __init__(self, target: BridgeTarget, settings: BridgeSettings | None = None) -> None:
        self.target = target
        self.settings = settings or BridgeSettings()
        self.stats = BridgeStats()
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.session: AmiSession | None = None
        self._agents: set[str] = set()
        self._agents_loaded = 0.0
        self.translator = Translator(is_agent=self._agents.__contains__, parties=target.parties)
        self._pending: set[asyncio.Task[None]] = set()
        self.desk = CommandDesk(self)
        self.recorder = Recorder(self)
        self.callbacks = CallbackDesk(self)
        self._booted = False  # a FullyBooted arrived on the current session
        self._snapshot: _Snapshot | None = None
        # Resync time -> the PBX's clock at that snapshot, for the CEL backfill.
        self._snapshot_clock: dict[datetime, datetime] = {}
        self.connected = asyncio.Event()

    # -- running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; what was received by then is applied first."""
        await self._refresh_agents(force=True)
        consumer = asyncio.create_task(self._consume(), name=f"ami-consume {self.target}")
        listener = asyncio.create_task(self.desk.listen(), name=f"ami-commands {self.target}")
        callbacks = asyncio.create_task(self.callbacks.run(), name=f"ami-callbacks {self.target}")
        try:
            await self._supervise(stop)
        finally:
            listener.cancel()
            callbacks.cancel()
            if self.session is not None:
                self.session.close()
            await self.drained()
            consumer.cancel()
            for task in (consumer, listener, callbacks):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drained(self) -> None:
        """Until every event received so far is in the database."""
        await self.queue.join()

    async def synced(self, timeout: float = 10.0) -> None:
        """Until everything the PBX sent before now is in the database.

        A Ping's reply comes after every event written before it on the same socket.
        """
        session = self.session
        if session is not None:
            await session.ping(timeout)
        await self.drained()

    async def _supervise(self, stop: asyncio.Event) -> None:
        delay = self.settings.backoff_initial
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                session = None
                try:
                    # A record's target is checked again now, and dialled by address.
                    session = AmiSession(
                        await dial_endpoint(self.target),
                        events=Translator.EVENTS,
                        checks=_EDGE_CHECKS,
                        queue=self.queue,
                        action_timeout=self.settings.action_timeout,
                    )
                    # Set before logging in: the FullyBooted that follows the login may be
                    # taken off the queue before open() returns, and must find its session.
                    self.session, self._booted = session, False
                    await session.open()
                except (OSError, TimeoutError, LoginFailed, ConnectionError) as exc:
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    self.stats.dials_refused += isinstance(exc, TargetRefused)
                    logger.warning(
                        "AMI %s: cannot connect (%s); retry in %.1fs",
                        self.target.endpoint,
                        self.stats.last_error,
                        delay,
                    )
                    if session is not None:
                        session.close()
                    self.session = None
                    await asyncio.wait([stopping], timeout=delay)
                    delay = min(delay * 2, self.settings.backoff_max)
                    continue
                delay = self.settings.backoff_initial
                await self._serve(session, stopping)
        finally:
            stopping.cancel()

    async def _serve(self, session: AmiSession, stopping: asyncio.Task[Any]) -> None:
        self.stats.connected = True
        self.stats.connects += 1
        self.connected.set()
        logger.info("AMI %s: logged in", self.target.endpoint)
        fallback = asyncio.get_running_loop().call_later(
            self.settings.resync_wait, self._resync_unless_booted
        )
        watchdog = asyncio.create_task(self._watchdog(session))
        try:
            await asyncio.wait(
                [session.lost, stopping, watchdog], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            fallback.cancel()
            watchdog.cancel()
            session.close()
            self.session = None
            self.stats.connected = False
            self.connected.clear()
            if stopping.done():
                # Asked to stop (Ctrl-C on the demo, a service stop): nothing is wrong.
                logger.info("AMI %s: connection closed, the bridge stops", self.target.endpoint)
            else:
                logger.warning("AMI %s: connection closed", self.target.endpoint)

    def _resync_unless_booted(self) -> None:
        if not self._booted:
            self.queue.put_nowait(_RESYNC)

    async def _watchdog(self, session: AmiSession) -> None:
        """A Ping must be answered in time, or the connection is dead (half-open)."""
        while True:
            await asyncio.sleep(self.settings.ping_interval)
            try:
                await session.ping(self.settings.ping_timeout)
            except AmiError as exc:
                logger.warning("AMI %s: %s; dropping the connection", self.target.endpoint, exc)
                session.abort()
                return

    # -- commands from the consoles ----------------------------------------------------------

    async def execute(self, command: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one console command as an AMI action (see telephony/ami/desk.py)."""
        return await self.desk.execute(command, params)

    # -- consuming -------------------------------------------------------------------------

    async def _consume(self) -> None:
        """Translate events in arrival order as they come; a writer task stores them.

        The writer takes everything translated so far whenever it is free, so a batch
        is formed as late as it can be (an event waits for at most the write before its
        own) and events are translated while the previous batch is being written.
        """
        pending = Pending()
        writer = asyncio.create_task(self._write(pending), name=f"ami-write {self.target}")
        try:
            while True:
                batch = [await self.queue.get()]
                while len(batch) < self.settings.batch_max and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                facts: list[te.Fact] = []
                try:
                    await self._refresh_agents()
                    facts = self._translate(batch)
                except Exception:
                    # The consumer must outlive any one batch; what failed is in the log.
                    logger.exception("AMI %s: batch failed", self.target.endpoint)
                pending.add(facts, batch)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write(self, pending: Pending) -> None:
        while True:
            facts, batch = await pending.take(self.settings.batch_max)
            try:
                if facts:
                    result = await self._apply(facts)
                    metrics.batch_stored(batch)
                    self.recorder.after_batch(facts, result.record_from_start)
                    self.callbacks.after_batch(facts)
                    await self._catch_up(facts)
            except Exception:
                logger.exception("AMI %s: batch failed", self.target.endpoint)
            finally:
                for _ in batch:
                    self.queue.task_done()

    def _translate(self, batch: list[Any]) -> list[te.Fact]:
        facts: list[te.Fact] = []
        for item in batch:
            if item is _RESYNC:
                self._start_resync()
                continue
            if self._snapshot is not None and item.get("ActionID") in self._snapshot.lists:
                facts.extend(self._snapshot_part(item))
                continue
            if item.get("Event") == "FullyBooted":
                self._booted = True
                self._start_resync()
                continue
            self.stats.events_received += 1
            try:
                facts.extend(self.translator.translate(item))
            except Exception:
                # A frame we cannot make sense of is logged and skipped; the rest go on.
                self.stats.translate_errors += 1
                logger.exception("AMI %s: cannot translate %r", self.target.endpoint, item)
        return facts

    async def _catch_up(self, facts: list[te.Fact]) -> None:
        """After a stored resync, what the PBX logged while we were away (telephony/cel/)."""
        for fact in facts:
            if isinstance(fact, te.ResyncCompleted):
                until = self._snapshot_clock.pop(fact.at, None) or fact.at
                if self.target.cel is not None:
                    await catch_up(self, until)

    def _start_resync(self) -> None:
        """Ask for the snapshot; its replies come back through the queue, in place."""
        session = self.session
        if session is None:
            return
        try:
            sent = {
                name: session.send_mirrored({"Action": name})
                for name in ("Ping", "CoreShowChannels", "QueueStatus", "QueueSummary")
            }
        except AmiError:
            return
        self._snapshot = _Snapshot(
            channels_id=sent["CoreShowChannels"][0],
            status_id=sent["QueueStatus"][0],
            lists={action_id: [] for action_id, _ in sent.values()},
            ping_id=sent["Ping"][0],
        )
        futures = [future for _, future in sent.values()]
        task = asyncio.create_task(self._await_snapshot(session, futures))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _await_snapshot(self, session: AmiSession, futures: list[Any]) -> None:
        """The snapshot must come back in time; if not, the connection is not trusted."""
        done, pending = await asyncio.wait(futures, timeout=self.settings.action_timeout)
        failed = [f for f in done if f.cancelled() or f.exception() is not None]
        if pending or failed:
            for future in pending:
                future.cancel()
            if not session.lost.done():
                logger.warning(
                    "AMI %s: resync did not complete; reconnecting", self.target.endpoint
                )
                session.abort()

    def _snapshot_part(self, message: Any) -> list[te.Fact]:
        snapshot = self._snapshot
        assert snapshot is not None
        action_id = message.get("ActionID")
        if action_id == snapshot.ping_id:
            snapshot.pbx_time = timestamp(message)
            return []
        snapshot.lists[action_id].append(message)
        if message.get("Response") == "Error":
            logger.warning(
                "AMI %s: resync refused: %s", self.target.endpoint, message.get("Message")
            )
        if not str(message.get("Event") or "").endswith("Complete"):
            return []
        items = [m for m in snapshot.lists[action_id] if m.get("Event")]
        if action_id == snapshot.channels_id:
            channels = [m for m in items if m.get("Event") == "CoreShowChannel"]
            facts = resync_calls(
                self.translator, channels=channels, connection=self.target.connection_key
            )
            snapshot.at = next(f.at for f in facts if isinstance(f, te.ResyncCompleted))
            if snapshot.pbx_time is not None:
                self._snapshot_clock[snapshot.at] = snapshot.pbx_time
            self.stats.resyncs += 1
            return facts
        if action_id == snapshot.status_id:
            at = snapshot.at or self.translator.last_event_at or self.translator.clock()
            return list(resync_agents(queue_status=items, at=at))
        return []

    async def _apply(self, facts: list[te.Fact]) -> ApplyResult:
        delay = self.settings.backoff_initial
        while True:
            try:
                result = await sync_to_async(self._apply_sync, thread_sensitive=True)(facts)
            except BROKEN as exc:
                # Hold the batch until the database is back; nothing is dropped.
                self.stats.last_error = f"database: {exc}"
                logger.warning(
                    "AMI %s: database unavailable (%s); retry in %.1fs",
                    self.target.endpoint,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)
                continue
            except DatabaseError:
                logger.exception("AMI %s: batch refused; applying one by one", self.target.endpoint)
                return await self._apply_one_by_one(facts)
            self.stats.batches += 1
            self.stats.facts_applied += len(facts)
            return result

    async def _apply_one_by_one(self, facts: list[te.Fact]) -> ApplyResult:
        stored = ApplyResult()
        for fact in facts:
            try:
                result = await sync_to_async(self._apply_sync, thread_sensitive=True)([fact])
            except DatabaseError:
                logger.exception(
                    "AMI %s: dropping a fact the database refused: %r", self.target.endpoint, fact
                )
                continue
            stored.applied += result.applied
            stored.record_from_start |= result.record_from_start
        return stored

    def _apply_sync(self, facts: list[te.Fact]) -> ApplyResult:
        started = time.monotonic()
        result = run_retrying(
            functools.partial(
                telephony_apply,
                organization_id=self.target.organization_id,
                connection_key=self.target.connection_key,
                events=facts,
            )
        )
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)  # stored batches only
        return result

    async def _refresh_agents(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._agents_loaded < self.settings.agents_refresh:
            return
        try:
            interfaces = await sync_to_async(self._agent_interfaces, thread_sensitive=True)()
        except BROKEN as exc:
            logger.warning("AMI %s: cannot load agents (%s)", self.target.endpoint, exc)
            return
        self._agents.clear()
        self._agents.update(interfaces)
        self._agents_loaded = now

    def _agent_interfaces(self) -> list[str]:
        close_old_connections()
        return list(
            Agent.objects.for_organization(self.target.organization_id).values_list(
                "interface", flat=True
            )
        )

    def __str__(self) -> str:
        return f"{self.target.connection_key} ({self.target.endpoint})"
