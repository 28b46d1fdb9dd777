"""One AMI client connection to the simulator.

Like an Asterisk manager session: banner on connect, Login checked against the
configured user, actions answered one at a time in arrival order, and each
response written before the events the action causes (Asterisk queues those and
delivers them after the response, docs/ami.md §2.2).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telephony.ami.frames import AmiMessage, FrameError, FrameParser, serialize, serialize_banner
from telephony.ami.simulator.clock import format_timestamp
from telephony.ami.simulator.replay import ReplayReport, ReplayRun, ReplaySpec
from telephony.ami.simulator.transcript import ActionKey

if TYPE_CHECKING:
    from telephony.ami.simulator.server import AmiSimulator

logger = logging.getLogger(__name__)

NativeHandler = Callable[["AmiSession", AmiMessage], Awaitable[list[AmiMessage] | None]]


@dataclass(frozen=True)
class ConnectionPlan:
    """What one connection gets: transcripts to replay, and/or the live model's events.

    ``live_events=None`` means: live events only when there is nothing to replay, so
    a replayed session sees exactly its transcript.
    """

    replays: Sequence[ReplaySpec] = ()
    live_events: bool | None = None
    # Hang up on the client right after the K-th live event (for reconnect drills).
    drop_after_events: int | None = None

    @property
    def wants_live_events(self) -> bool:
        return not self.replays if self.live_events is None else self.live_events


def response(action_id: str | None, status: str, *fields: tuple[str, str]) -> AmiMessage:
    """``Response`` first, then ``ActionID`` (only if the action had one), then the rest."""
    head = [("Response", status)]
    if action_id is not None:
        head.append(("ActionID", action_id))
    return AmiMessage((*head, *fields))


@dataclass
class SessionStats:
    actions: Counter[str] = field(default_factory=Counter)
    live_events: Counter[str] = field(default_factory=Counter)


class AmiSession:
    def __init__(
        self,
        simulator: AmiSimulator,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        plan: ConnectionPlan,
        index: int,
    ) -> None:
        self.simulator = simulator
        self.reader = reader
        self.writer = writer
        self.plan = plan
        self.index = index
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.authenticated = asyncio.Event()
        self.closed = asyncio.Event()
        self.replays_done = asyncio.Event()
        self.replay_reports: list[ReplayReport] = []
        self.stats = SessionStats()
        self.events_on = True
        self._parser = FrameParser()
        self._bound: dict[ActionKey, str | None] = {}
        self._waiters: dict[ActionKey, asyncio.Future[str | None]] = {}
        self._replay: ReplayRun | None = None
        self._replay_task: asyncio.Task[None] | None = None
        self._pending_replays = list(plan.replays)
        self._deferred: list[tuple[str, bytes]] | None = None
        self._closing = False

    # -- the ReplayTarget side ---------------------------------------------------

    def action_count(self, name: str) -> int:
        return self.stats.actions[name.lower()]

    def is_bound(self, key: ActionKey) -> bool:
        return key in self._bound

    async def bound_action_id(self, key: ActionKey) -> str | None:
        if key in self._bound:
            return self._bound[key]
        waiter = self._waiters.get(key)
        if waiter is None:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters[key] = waiter
        return await waiter

    def write(self, data: bytes) -> None:
        if not self._closing:
            self.writer.write(data)

    async def drain(self) -> None:
        if self._closing:
            return
        try:
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            self.close()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.writer.close()
        if self._replay_task is not None and self._replay_task is not asyncio.current_task():
            self._replay_task.cancel()

    # -- live events -------------------------------------------------------------

    def deliver(self, event: str, data: bytes) -> None:
        """A live event from the PBX model (already serialized once for all sessions)."""
        if self._closing or not self.events_on:
            return
        if self._deferred is not None:
            self._deferred.append((event, data))
            return
        self.writer.write(data)
        self.stats.live_events[event] += 1
        limit = self.plan.drop_after_events
        if limit is not None and self.stats.live_events.total() >= limit:
            logger.info("session %d: dropping the connection after %d events", self.index, limit)
            self.close()

    # -- the connection ----------------------------------------------------------

    async def serve(self) -> None:
        logger.info("session %d: %s connected", self.index, self.peer)
        self.write(serialize_banner(self.simulator.config.version))
        self._attach_next_replay()
        try:
            while not self._closing:
                data = await self.reader.read(65536)
                if not data:
                    break
                for frame in self._parser.feed(data):
                    if isinstance(frame, AmiMessage):
                        await self._on_action(frame)
                        if self._closing:
                            break
                    elif isinstance(frame, FrameError):
                        logger.warning("session %d: skipped %s", self.index, frame.kind)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._finish()

    def _finish(self) -> None:
        self.simulator.hub.unsubscribe(self)
        self.close()
        for waiter in self._waiters.values():
            waiter.cancel()
        if self._replay_task is not None:
            self._replay_task.cancel()
        self.replays_done.set()
        self.closed.set()
        logger.info("session %d: closed", self.index)

    def _attach_next_replay(self) -> None:
        if not self._pending_replays:
            self._replay = None
            self.replays_done.set()
            return
        # Built now, not when its task first runs, so it can claim the Login at once.
        self._replay = ReplayRun(self._pending_replays.pop(0), self)
        self._replay_task = asyncio.get_running_loop().create_task(self._play(self._replay))

    async def _play(self, run: ReplayRun) -> None:
        report = await run.play()
        self.replay_reports.append(report)
        logger.info(
            "session %d: replayed %s (%d messages, %d events)",
            self.index,
            report.transcript,
            report.messages_sent,
            report.event_total,
        )
        if report.dropped:
            self.replays_done.set()
            return
        self._attach_next_replay()

    async def _on_action(self, action: AmiMessage) -> None:
        name = action.action
        action_id = action.action_id
        if not name:
            self._send([response(action_id, "Error", ("Message", "Missing action in request"))])
            return
        lowered = name.lower()
        if lowered == "login":
            await self._login(action)
            return
        if not self.authenticated.is_set():
            self._send([response(action_id, "Error", ("Message", "Permission denied"))])
            return
        key = self._record(lowered, action_id)
        if self._replay is not None and self._replay.claims_action(key):
            return  # the transcript holds the answer
        if lowered == "logoff":
            self._send([response(action_id, "Goodbye", ("Message", "Thanks for all the fish."))])
            await self.drain()
            self.close()
            return
        if lowered == "ping":
            stamp = format_timestamp(self.simulator.clock.now())
            self._send([response(action_id, "Success", ("Ping", "Pong"), ("Timestamp", stamp))])
            return
        # Events the action causes wait until its response is written.
        self._deferred = []
        try:
            replies = await self.simulator.handle_action(self, action)
        finally:
            deferred, self._deferred = self._deferred, None
        if replies is None:
            replies = [response(action_id, "Error", ("Message", "Invalid/unknown command"))]
        self._send(replies)
        for event, data in deferred or []:
            self.deliver(event, data)

    async def _login(self, action: AmiMessage) -> None:
        action_id = action.action_id
        config = self.simulator.config
        if self.authenticated.is_set():
            self._send([response(action_id, "Success", ("Message", "Already authenticated"))])
            return
        username = action.get("Username") or ""
        secret = action.get("Secret") or ""
        # Asterisk matches the user name case-insensitively and the secret exactly.
        user_ok = username.lower() == config.username.lower()
        secret_ok = hmac.compare_digest(secret.encode(), config.secret.encode())
        if not (user_ok and secret_ok):
            logger.warning("session %d: authentication failed for %r", self.index, username)
            self._send([response(action_id, "Error", ("Message", "Authentication failed"))])
            await self.drain()
            await asyncio.sleep(config.login_failure_close_delay)
            self.close()
            return
        self.events_on = (action.get("Events") or "on").lower() != "off"
        self.authenticated.set()
        key = self._record("login", action_id)
        if self._replay is None or not self._replay.claims_action(key):
            uptime = str(self.simulator.uptime_seconds())
            self._send(
                [
                    response(action_id, "Success", ("Message", "Authentication accepted")),
                    # Written straight to the session: no Timestamp (docs/ami.md §2.4).
                    AmiMessage.of(
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", uptime),
                        ("LastReload", uptime),
                        ("Status", "Fully Booted"),
                    ),
                ]
            )
        logger.info("session %d: %s logged in", self.index, username)
        if self.plan.wants_live_events:
            self.simulator.hub.subscribe(self)
        self.simulator.notify_login()

    def _record(self, name: str, action_id: str | None) -> ActionKey:
        self.stats.actions[name] += 1
        key = (name, self.stats.actions[name])
        self._bound[key] = action_id
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(action_id)
        return key

    def _send(self, messages: list[AmiMessage]) -> None:
        self.write(b"".join(serialize(message) for message in messages))
