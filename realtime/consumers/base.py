"""What both streams share: the envelope and its seq, refusals, limits, commands.

A consumer parses a message, calls one command (``realtime.commands``), and answers with
``ack`` or ``error``; it never writes to the database itself. Commands run as tasks,
so a PBX command waiting for the bridge does not hold up the events behind it; their
answers carry the command's id, not an order.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from contactcenter.errors import ApplicationError
from contactcenter.selectors.access import (
    agent_for_membership,
    membership_signed_in,
    session_is_current,
)
from contactcenter.services import audit
from realtime import feed, metrics, sockets
from realtime import messages as msgs
from realtime.groups import user_sockets_group
from realtime.protocol import (
    CloseCode,
    Command,
    ProtocolError,
    TokenBucket,
    encode_data,
    parse_command,
)
from realtime.screens.snapshot import Caller

logger = logging.getLogger(__name__)

Handler = Callable[[Caller, Any], Awaitable[dict[str, Any]]]


def _current_caller(user: Any, auth_epoch: int) -> Caller | int:
    """The caller, or the close code to refuse them with: 4401 when what they signed in
    with no longer holds (``session_is_current``), 4403 when they are a member of no
    (active) organization."""
    current, membership = membership_signed_in(user_id=user.pk, auth_epoch=auth_epoch)
    if not current:
        return CloseCode.UNAUTHENTICATED
    if membership is None:
        return CloseCode.FORBIDDEN
    return Caller(membership=membership, agent=agent_for_membership(membership))


class StreamConsumer(AsyncWebsocketConsumer, abc.ABC):
    stream: str = ""
    catalogue: dict[str, Any] = {}  # command type -> data schema (realtime.protocol)
    handlers: dict[str, Handler] = {}  # command type -> realtime.commands function

    caller: Caller

    async def dispatch(self, message: dict[str, Any]) -> None:
        """channels' dispatch without its ``aclose_old_connections`` before each handler:
        that is a turn through the one database thread, where a message waited behind the
        queue figures being computed. Our handlers reach the database only through
        ``database_sync_to_async``, which closes stale connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.seq = 0
        self.closed = False
        # Queue figures (realtime.feed) reach the consumer directly, not through its
        # message loop: one that lands while the snapshot is read waits for it.
        self.snapshot_sent = False
        self.figures_missed: set[int] = set()
        self.joined: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.bucket = TokenBucket(
            rate=settings.REALTIME_RATE_PER_SECOND, burst=settings.REALTIME_RATE_BURST
        )
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self.refuse(CloseCode.UNAUTHENTICATED)
        # The user's revocations reach this group (contactcenter.services.sessions). Joined
        # before the epoch is looked at again: one committed since the user was read
        # (before the join) is seen here, one committed after reaches the group.
        self.auth_epoch: int = user.auth_epoch
        self.sockets_group = user_sockets_group(user.pk)  # apart from the stream's groups
        await self.channel_layer.group_add(self.sockets_group, self.channel_name)
        # One turn of the database thread for both reads: at a reconnect storm each turn
        # waits behind every other socket's, so a socket's turns set how long it waits.
        caller = await database_sync_to_async(_current_caller)(user, self.auth_epoch)
        if not isinstance(caller, Caller):
            return await self.refuse(caller)
        self.caller = caller
        refusal = await self.authorize()
        if refusal is not None:
            return await self.refuse(refusal)
        if not await sockets.socket_claim(user_id=user.pk, connection=self.channel_name):
            return await self.refuse(CloseCode.TOO_MANY_SOCKETS)
        self.slot_held = True
        await self.accept()
        metrics.websocket_opened(self.stream)
        self.counted = True
        # Groups before the snapshot: a change committed in between is then in the
        # snapshot or in a message after it (or both: applying it twice is harmless).
        for group in self.groups_to_join():
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.opened()
        hello = msgs.HelloData(
            stream=self.stream,  # type: ignore[arg-type]
            heartbeat_seconds=settings.REALTIME_HEARTBEAT_SECONDS,
            max_message_bytes=settings.REALTIME_MAX_MESSAGE_BYTES,
        )
        await self.emit("hello", hello)
        await self.emit("snapshot", await self.snapshot())
        self.snapshot_sent = True
        if self.figures_missed:  # computed before or after the snapshot's: ask again
            feed.mark(self.caller.organization_id, self.figures_missed)

    def figures_wait(self, queue_ids: Iterable[int]) -> bool:
        """Whether queue figures must wait for the snapshot (they are asked for again
        once it is out, so the screen never keeps figures older than its snapshot's)."""
        if self.snapshot_sent:
            return False
        self.figures_missed.update(queue_ids)
        return True

    async def refuse(self, code: int) -> None:
        # Accept first: a browser sees a refused handshake only as 1006, never our code.
        self.closed = True
        await self.accept()
        await self.close(int(code))  # a plain int: Daphne (autobahn) refuses an IntEnum

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if getattr(self, "slot_held", False):
            self.slot_held = False
            user_id = self.scope["user"].pk
            await sockets.socket_release(user_id=user_id, connection=self.channel_name)
        if getattr(self, "counted", False):
            metrics.websocket_closed(self.stream)
            self.counted = False
        for task in self.tasks:
            task.cancel()
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "sockets_group", None):
            await self.channel_layer.group_discard(self.sockets_group, self.channel_name)
        if hasattr(self, "caller") and self.joined:
            await self.closing()

    # -- what each stream defines ---------------------------------------------------------

    async def authorize(self) -> int | None:
        """A close code to refuse the caller with, or None."""
        return None

    def groups_to_join(self) -> list[str]:
        return []

    async def opened(self) -> None:
        """After the groups are joined, before the snapshot."""

    async def closing(self) -> None:
        """After the groups are left."""

    @abc.abstractmethod
    async def snapshot(self) -> msgs.Model:
        """Everything the screen shows, for the ``snapshot`` message (each stream its own)."""

    # -- messages out -------------------------------------------------------------------------

    async def emit(self, type_: str, data: msgs.Model | dict[str, Any]) -> None:
        await self.emit_encoded(type_, encode_data(data))

    async def emit_encoded(self, type_: str, data_json: str) -> None:
        """A message whose ``data`` is JSON already: figures shared by every screen of the
        process are encoded once (realtime.feed), only the envelope is this socket's."""
        if self.closed:
            return
        self.seq += 1
        # The hot path of a broadcast (thousands of sockets per update): the aware UTC
        # now without Django's settings lookup, and the ASGI send without the two
        # wrappers of AsyncWebsocketConsumer.send that only build this message.
        ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        text = f'{{"type":{json.dumps(type_)},"seq":{self.seq},"ts":"{ts}","data":{data_json}}}'
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Disconnected:
            # Daphne refuses to send once the close handshake has begun, before it tells
            # the consumer: the screen is going away, nothing is owed to it.
            self.closed = True
            logger.debug("realtime: %s socket closing, %s message dropped", self.stream, type_)

    async def forward(self, message: dict[str, Any]) -> None:
        """A published message (realtime.publish): its type and data become those of the
        message to the client."""
        await self.emit(message["type"], message["data"])

    async def session_current(self) -> bool:
        user_id = self.scope["user"].pk
        check = database_sync_to_async(session_is_current)
        return bool(await check(user_id=user_id, auth_epoch=self.auth_epoch))

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """The user signed out, or their password, role or activation changed
        (contactcenter.services.sessions): 4401, as for a socket never signed in."""
        if not self.closed:
            self.closed = True
            await self.close(int(CloseCode.UNAUTHENTICATED))

    async def layer_lost(self, message: dict[str, Any]) -> None:
        """The process's channel layer may have dropped messages (realtime.layers): this
        screen may be stale, so the client reconnects for a fresh snapshot."""
        if not self.closed:
            self.closed = True
            await self.close(int(CloseCode.LAYER_LOST))

    async def error(self, exc: ProtocolError | ApplicationError, command_id: str | None) -> None:
        if isinstance(exc, ProtocolError):
            data = msgs.ErrorData(
                id=command_id, code=exc.code, message=exc.message, details=exc.details
            )
        else:
            details: dict[str, Any] = {"field": exc.field} if exc.field else {}
            result = getattr(exc, "result", None)
            if result is not None:
                details["pbx"] = {"ok": result.ok, "error": result.error, "message": result.message}
            data = msgs.ErrorData(
                id=command_id, code=exc.code, message=exc.message, details=details or None
            )
        await self.emit("error", data)

    async def shut(self, code: int, error: ProtocolError) -> None:
        await self.error(error, None)
        self.closed = True
        await self.close(int(code))

    # -- messages in ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if not self.bucket.take():
            limit = f"{settings.REALTIME_RATE_PER_SECOND}/s"
            return await self.shut(
                CloseCode.TOO_MANY_MESSAGES,
                ProtocolError("flood", f"More than {limit} messages; closing."),
            )
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.REALTIME_MAX_MESSAGE_BYTES:
            limit = f"{settings.REALTIME_MAX_MESSAGE_BYTES} bytes"
            return await self.shut(
                CloseCode.MESSAGE_TOO_BIG,
                ProtocolError("too_big", f"A message may hold at most {limit}; closing."),
            )
        if text_data is None:
            return await self.error(ProtocolError("binary", "Messages are JSON text."), None)
        try:
            command = parse_command(text_data, self.catalogue)
        except ProtocolError as exc:
            return await self.error(exc, exc.command_id)
        if command.type == "ping":
            return await self.emit("pong", msgs.PongData(id=command.id))
        if len(self.tasks) >= settings.REALTIME_MAX_PENDING_COMMANDS:
            busy = ProtocolError("busy", "Too many commands in progress; wait for their answers.")
            return await self.error(busy, command.id)
        task = asyncio.get_running_loop().create_task(self.run(command))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def actor(self) -> audit.Actor:
        """The audit trail's actor for one command: the user, the socket's address, a
        request id of its own."""
        client = self.scope.get("client") or [None]
        return audit.Actor.for_user(
            self.scope["user"], request_id=audit.new_request_id(), client_address=client[0]
        )

    async def run(self, command: Command) -> None:
        assert command.id is not None  # only ping may come without one
        # A command may arrive between a revocation's commit and its session.revoked
        # message: the epoch is checked first, so none is carried out for a revoked user.
        if not await self.session_current():
            revoked = ProtocolError("session_revoked", "Your session has ended: sign in again.")
            await self.error(revoked, command.id)
            return await self.session_revoked({})
        try:
            # What the command writes is audited as this user's, from this socket.
            with audit.acting(self.actor()):
                result = await self.handlers[command.type](self.caller, command.data)
        except (ApplicationError, ProtocolError) as exc:
            await self.error(exc, command.id)
        except Exception:
            logger.exception("realtime: command %s failed", command.type)
            await self.error(ProtocolError("internal", "The command failed."), command.id)
        else:
            await self.emit("ack", msgs.AckData(id=command.id, result=result))
