"""The wire protocol's fixed parts: close codes, messages, commands, the flood limit.

docs/realtime-protocol.md is the contract; a change here is a change there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from contactcenter import safejson
from contactcenter.transitions import AGENT_SELECTABLE_CHOICES
from realtime import messages as msgs


class CloseCode(IntEnum):
    NORMAL = 1000
    # Not RFC 6455's 1009: autobahn refuses to send that code for the application (the
    # close became a 1011). Daphne's own limit (--websocket-max-message-size) drops the
    # connection instead of closing it.
    MESSAGE_TOO_BIG = 4009
    INTERNAL_ERROR = 1011
    ORIGIN_REFUSED = 4003
    BAD_REQUEST = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    TOO_MANY_MESSAGES = 4429
    # The same code, nothing sent first: the user has REALTIME_MAX_SOCKETS_PER_USER open.
    TOO_MANY_SOCKETS = 4429
    LAYER_LOST = 4503  # messages may have been lost (realtime.layers): reconnect, re-snapshot


class ProtocolError(Exception):
    """A client message the server answers with an ``error`` message."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        command_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.command_id = command_id
        self.details = details


# -- commands -------------------------------------------------------------------------------

CommandId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Envelope(_Strict):
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    id: CommandId | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Ping(_Strict):
    pass


class SetState(_Strict):
    state: Literal[tuple(AGENT_SELECTABLE_CHOICES)]  # type: ignore[valid-type]
    reason: Annotated[str, StringConstraints(max_length=64)] = ""


class Originate(_Strict):
    # What a dial string may hold; anything else would reach the dialplan unchecked.
    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9*#]{1,32}$")]


class Hangup(_Strict):
    call_id: int


class Transfer(_Strict):
    call_id: int
    target: Annotated[str, StringConstraints(pattern=r"^\+?[0-9*#]{1,32}$")]
    kind: Literal["blind", "attended"]


class SetDisposition(_Strict):
    call_id: int
    disposition_id: int | None


class SetNotes(_Strict):
    call_id: int
    notes: Annotated[str, StringConstraints(max_length=20000)]


class MarkRead(_Strict):
    notification_id: int


class RecordingPause(_Strict):
    call_id: int
    paused: bool


class RecordingStart(_Strict):
    call_id: int


AGENT_COMMANDS: dict[str, type[_Strict]] = {
    "ping": Ping,
    "agent.set_state": SetState,
    "call.originate": Originate,
    "call.hangup": Hangup,
    "call.transfer": Transfer,
    "call.set_disposition": SetDisposition,
    "call.set_notes": SetNotes,
    "call.recording_pause": RecordingPause,
    "call.recording_start": RecordingStart,
    "notification.mark_read": MarkRead,
}


class AgentPause(_Strict):
    """Pause an agent in all their queues with a reason, or unpause them."""

    agent_id: int
    paused: bool
    reason: Annotated[str, StringConstraints(max_length=64)] = ""


class AgentLogOut(_Strict):
    """Log an agent out: removed from every queue they are logged in to."""

    agent_id: int


class QueueAdd(_Strict):
    """Add an agent to a queue with a penalty (QueueAdd)."""

    agent_id: int
    queue_id: int
    penalty: Annotated[int, Field(ge=0, le=1000)] = 0


class QueueRemove(_Strict):
    """Remove an agent from a queue (QueueRemove)."""

    agent_id: int
    queue_id: int


class ForceHangup(_Strict):
    """Hang up a call whoever is on it (a call stuck on an agent)."""

    call_id: int


class Monitor(_Strict):
    """Ring your own phone to listen to, whisper to (agent only) or barge into a call."""

    call_id: int
    mode: Literal["listen", "whisper", "barge"]


class MonitorStop(_Strict):
    """Hang up your monitoring call on a call."""

    call_id: int


class MoveCall(_Strict):
    """Move a caller waiting in a queue to an agent's phone or into another queue
    (Redirect): ``agent_id`` or ``queue_id``, one of them."""

    call_id: int
    agent_id: int | None = None
    queue_id: int | None = None

    @model_validator(mode="after")
    def _one_target(self) -> MoveCall:
        if (self.agent_id is None) == (self.queue_id is None):
            raise ValueError("Give agent_id or queue_id, one of them.")
        return self


# A supervisor's or admin's (the wallboard stream opens for nobody else).
WALLBOARD_COMMANDS: dict[str, type[_Strict]] = {
    "ping": Ping,
    "agent.pause": AgentPause,
    "agent.log_out": AgentLogOut,
    "agent.queue_add": QueueAdd,
    "agent.queue_remove": QueueRemove,
    "call.force_hangup": ForceHangup,
    "call.monitor": Monitor,
    "call.monitor_stop": MonitorStop,
    "call.move": MoveCall,
}


@dataclass(frozen=True)
class Command:
    type: str
    id: str | None
    data: Any


def parse_command(text: str, catalogue: dict[str, type[_Strict]]) -> Command:
    """One client message as a command; raises ProtocolError naming what is wrong."""
    try:
        raw = safejson.loads(text)
    except safejson.RefusedJSON as exc:
        # Nested deeper than any command, or text no database column could keep.
        raise ProtocolError("bad_json", f"The message's JSON is refused: {exc.message}") from None
    except ValueError as exc:
        raise ProtocolError("bad_json", "The message is not JSON.") from exc
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        command_id = raw.get("id") if isinstance(raw, dict) else None
        raise ProtocolError(
            "invalid",
            "A command is {type, id, data}.",
            command_id=command_id if isinstance(command_id, str) else None,
            details={"errors": _errors(exc)},
        ) from exc
    schema = catalogue.get(envelope.type)
    if schema is None:
        raise ProtocolError(
            "unknown_type", f"Unknown command {envelope.type!r}.", command_id=envelope.id
        )
    if envelope.id is None and envelope.type != "ping":
        raise ProtocolError("invalid", "A command needs an id.")
    try:
        data = schema.model_validate(envelope.data)
    except ValidationError as exc:
        raise ProtocolError(
            "invalid",
            "The command's data is not valid.",
            command_id=envelope.id,
            details={"errors": _errors(exc)},
        ) from exc
    return Command(type=envelope.type, id=envelope.id, data=data)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]


# -- flood control --------------------------------------------------------------------------


@dataclass
class TokenBucket:
    """``rate`` messages a second on average, bursts up to ``burst``."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def encode_data(data: msgs.Model | dict[str, Any]) -> str:
    """A message's ``data`` as compact JSON; the envelope is added per socket
    (``StreamConsumer.emit_encoded``), so data shared by many sockets is encoded once."""
    return json.dumps(data.dump() if isinstance(data, msgs.Model) else data, separators=(",", ":"))
