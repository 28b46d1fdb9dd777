"""A thin wrapper over panoramisk 1.4: one connection attempt, supervised by us.

panoramisk's own supervision does not fit a bridge (docs/ami.md §9):
it retries at a fixed interval forever, re-sends an in-flight Originate after a
reconnect, never checks its pings, and runs handlers inside data_received. So each
attempt gets a fresh Manager whose reconnect is switched off; the caller (the bridge)
reconnects with backoff, watches pings with a deadline, and receives events through a
plain queue, in order, from a handler that cannot raise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action, Command
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.ami.frames import AmiMessage, Banner, FrameErrorKind, FrameParser, serialize
from telephony.ratelog import RateLimitedLog

logger = logging.getLogger(__name__)
# A flood of garbage on the socket is counted exactly (frame_errors), logged sparingly.
_skipped_frames = RateLimitedLog(logger)

# Actions that must never be sent twice: panoramisk re-sends pending actions after a
# reconnect unless they are listed here; the bridge decides about retries itself.
NEVER_RESEND = (
    "ping",
    "login",
    "logoff",
    "originate",
    "hangup",
    "redirect",
    "blindtransfer",
    "atxfer",
    "queuepause",
    "queueadd",
    "queueremove",
    "coreshowchannels",
    "queuestatus",
    "queuesummary",
)


class AmiError(Exception):
    """The PBX refused an action, or did not answer in time."""


class LoginFailed(AmiError):
    pass


class UnsafeAction(AmiError):
    """An action with a field that would break the AMI framing (CR/LF): never written."""


@dataclass(frozen=True)
class AmiEndpoint:
    host: str
    port: int
    username: str
    secret: str

    def __str__(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


def edge_filter(
    wanted: frozenset[str], checks: Mapping[str, Callable[[str], bool]] | None = None
) -> Callable[[str], bool]:
    """Which raw messages are worth parsing at all (FrameParser's ``keep``).

    An event is dropped on its first line when its name is not ``wanted`` (or its
    ``checks`` entry refuses the raw text) and it answers none of our actions (no
    ActionID); everything else (responses, action replies, odd frames) is parsed. On a
    dialplan-heavy stream this is most of the traffic, dropped for a string test.
    """
    checks = dict(checks or {})

    def keep(block: str) -> bool:
        if not block.startswith("Event: "):
            return True
        end = block.find("\n")
        name = (block[7:end] if end >= 0 else block[7:]).strip()
        if name in wanted:
            check = checks.get(name)
            if check is None or check(block):
                return True
        elif name in _ALWAYS:
            return True
        return "ActionID" in block or "actionid" in block.lower()

    return keep


# Events the client itself acts on, whatever the caller wants.
_ALWAYS = frozenset({"Shutdown", "FullyBooted"})


def _panoramisk_message(message: AmiMessage) -> Message | None:
    """Our parsed message as panoramisk's, for its action machinery (repeated keys as
    lists, as panoramisk builds them). None for a frame panoramisk would not keep."""
    headers: dict[str, Any] = {}
    for key, value in message.fields:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    if "Event" not in headers and "Response" not in headers:
        return None
    return Message(headers)


class _Protocol(AMIProtocol):
    """panoramisk's protocol with our parser in place of its per-line one.

    panoramisk builds a case-insensitive Message, key by key, for every frame on the
    socket, the wanted and the noise alike: under load that is the client's largest
    cost (docs/telephony.md). Here FrameParser splits the stream, noise is dropped
    before anything is built from it (``edge_filter``), plain events go straight to
    the session as AmiMessages, and only what panoramisk's action machinery needs
    (responses, replies to our actions, Shutdown) becomes a panoramisk Message.
    """

    frames: FrameParser | None = None
    early = b""
    version: str | None

    def data_received(self, data: bytes) -> None:
        if self.factory is None:
            # The banner can arrive before panoramisk's Manager has adopted this
            # protocol (it does so in a callback); it is read with what comes next.
            self.early += data
            return
        if self.early:
            data, self.early = self.early + data, b""
        frames = self.frames
        if frames is None:
            frames = self.frames = FrameParser(keep=getattr(self.factory, "keep", None))
        deliver, wanted = self.factory.deliver, self.factory.wanted
        for frame in frames.feed(data):
            if isinstance(frame, AmiMessage):
                name = frame.get("Event")
                if name is not None and name not in _ALWAYS and frame.get("ActionID") is None:
                    if name in wanted:  # an odd frame the edge filter let through
                        deliver(frame)
                    continue
                message = _panoramisk_message(frame)
                if message is not None:
                    self.handle_message(message)
            elif isinstance(frame, Banner):
                if self.version is None:
                    self.version = frame.version
            else:
                self.factory.frame_errors += 1
                done = "repaired" if frame.kind is FrameErrorKind.NUL_REPLACED else "skipped"
                _skipped_frames.warning(
                    "AMI: %s a frame (%s): %r", done, frame.kind, frame.raw[:80]
                )

    def send(self, data: Any, as_list: bool | None = False) -> asyncio.Future[Any]:
        """Write an action through our serializer (frames.serialize), never panoramisk's.

        Every action goes out here: ours, panoramisk's Login (Manager.connection_made)
        and its Ping. panoramisk writes ``str(action)``, CR/LF included, so a secret
        like ``x\r\nAction: ...`` would inject whole actions, and a target that is not
        a PBX would take them as commands. serialize refuses such a field; the action
        is then not written at all and its future fails with UnsafeAction.
        """
        if not isinstance(data, Action):
            data = (Command if "Command" in data else Action)(data, as_list=as_list)
        data.as_list = as_list
        try:
            wire = serialize(_wire_pairs(data))
        except ValueError as exc:
            data.future.set_exception(UnsafeAction(f"{data.get('Action')!r} not sent: {exc}"))
            return data.future
        self.responses[data.id] = data
        if data.action_id:
            self.responses[data.action_id] = data
        try:
            self.transport.write(wire)
        except Exception:
            logger.exception("AMI: cannot write %r", data.get("Action"))
        return data.future

    def handle_message(self, message: Message) -> Any:
        mirror = getattr(self.factory, "mirror", None)
        if mirror is not None and message.get("ActionID") in mirror:
            self.factory.deliver(message)
        return super().handle_message(message)


def _wire_pairs(action: Action) -> list[tuple[str, str]]:
    """The action's fields as panoramisk's ``Action.__str__`` lays them out: sorted by
    key, a list value as one line per item, every value as text."""
    pairs: list[tuple[str, str]] = []
    for key, value in sorted(action.items()):
        for item in value if isinstance(value, list | tuple) else (value,):
            pairs.append((str(key), str(item)))
    return pairs


class _Manager(Manager):
    """panoramisk's Manager with its own reconnecting switched off, and a plain lookup
    of the few events we take in place of its per-event scan of fnmatch patterns (the
    bridge's hottest path under load)."""

    lost: asyncio.Future[Any]
    mirror: set[str]
    deliver: Any
    wanted: frozenset[str]
    keep: Callable[[str], bool]
    frame_errors: int = 0

    def dispatch(self, event: Message) -> list[str]:
        name = event.get("Event")
        if name in self.wanted:
            self.deliver(event)
            return [name]
        return []

    login_error: BaseException | None = None

    def login(self, future: asyncio.Future[Any]) -> bool:
        # panoramisk reads the login's result unguarded: a Login that was never written
        # (UnsafeAction) would raise inside this callback.
        if future.cancelled() or future.exception() is not None:
            self.authenticated_future, self.authenticated = None, False
            self.login_error = None if future.cancelled() else future.exception()
            return False
        return bool(super().login(future))

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            # panoramisk would schedule its own retry here; the bridge retries instead.
            if not self.lost.done():
                self.lost.set_result(f.exception() if not f.cancelled() else None)
            return
        super().connection_made(f)

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        pinger = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None
        if not self.lost.done():
            self.lost.set_result(exc)


class AmiSession:
    """One logged-in AMI session. Events land in ``events`` in arrival order."""

    def __init__(
        self,
        endpoint: AmiEndpoint,
        *,
        events: Iterable[str],
        queue: asyncio.Queue[Any],
        action_timeout: float = 10.0,
        checks: Mapping[str, Callable[[str], bool]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.action_timeout = action_timeout
        self._queue = queue
        self._manager = _Manager(
            host=endpoint.host,
            port=endpoint.port,
            username=endpoint.username,
            secret=endpoint.secret,
            events="on",
            # Our watchdog pings with a deadline; panoramisk's pinger never reads the reply.
            ping_delay=10**9,
            reconnect_timeout=10**9,
            forgetable_actions=NEVER_RESEND,
            protocol_factory=_Protocol,
            loop=asyncio.get_running_loop(),
        )
        self._manager.lost = asyncio.get_running_loop().create_future()
        self._manager.mirror = set()
        self._manager.deliver = self._on_event_message
        self._manager.wanted = frozenset(events)
        self._manager.keep = edge_filter(self._manager.wanted, checks)

    def _on_event_message(self, message: AmiMessage | Message) -> None:
        # Runs inside panoramisk's data_received: it must not raise or block.
        try:
            self._queue.put_nowait(message)
        except Exception:  # an unbounded queue does not fail; belt and braces
            logger.exception("dropping AMI event %s", message.get("Event"))

    @property
    def lost(self) -> asyncio.Future[Any]:
        """Resolves when the connection ends, with the cause (an exception, or None)."""
        return self._manager.lost

    async def open(self, timeout: float = 10.0) -> None:
        """Connect and log in; raises OSError, LoginFailed or TimeoutError."""
        task = self._manager.connect()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except OSError:
            raise
        if self.lost.done():
            cause = self.lost.result()
            raise cause if isinstance(cause, OSError) else ConnectionError(str(cause))
        login = self._manager.authenticated_future
        if login is None:
            # panoramisk forgets the login's future once its reply is in (Manager.login):
            # a busy loop can resume this coroutine after that. The reply decided.
            if self._manager.authenticated:
                return
            error = self._manager.login_error
            raise LoginFailed(str(error) if error else "no login was sent, or it was refused")
        try:
            response = await asyncio.wait_for(asyncio.shield(login), timeout)
        except UnsafeAction as exc:
            raise LoginFailed(str(exc)) from exc
        if not getattr(response, "success", False):
            raise LoginFailed(str(response.get("Message", "Authentication failed")))

    def close(self) -> None:
        try:
            self._manager.close()
        finally:
            if not self.lost.done():
                self.lost.set_result(None)

    def abort(self) -> None:
        """Drop the socket at once (a half-open connection does not close cleanly)."""
        protocol = self._manager.protocol
        if protocol is not None and getattr(protocol, "transport", None) is not None:
            protocol.transport.abort()
        self.close()

    async def action(
        self, fields: dict[str, str], *, as_list: bool | None = False, timeout: float | None = None
    ) -> Any:
        """Send one action and wait for its reply (a Message, or a list for EventLists).

        ``as_list=False`` makes single-reply actions complete on their Response (the
        QueueAdd and Atxfer traps of panoramisk 1.4); list actions pass None.
        """
        if self.lost.done():
            raise AmiError("not connected")
        future = self._manager.send_action(dict(fields), as_list=as_list)
        try:
            return await asyncio.wait_for(future, timeout or self.action_timeout)
        except TimeoutError as exc:
            raise AmiError(f"{fields.get('Action')}: no reply in time") from exc

    def send_mirrored(self, fields: dict[str, str]) -> tuple[str, asyncio.Future[Any]]:
        """Send an action whose reply messages also enter the event queue, where they
        arrived in the stream: a snapshot then sits exactly between the events it
        follows and the ones after it. Returns the ActionID, and a future of the reply."""
        if self.lost.done():
            raise AmiError("not connected")
        action = Action(dict(fields), as_list=None)
        self._manager.mirror.add(action.action_id)
        future: asyncio.Future[Any] = self._manager.send_action(action, as_list=None)
        future.add_done_callback(lambda _: self._manager.mirror.discard(action.action_id))
        return str(action.action_id), future

    async def ping(self, timeout: float) -> None:
        reply = await self.action({"Action": "Ping"}, timeout=timeout)
        if not getattr(reply, "success", False):
            raise AmiError(f"Ping refused: {reply!r}")
