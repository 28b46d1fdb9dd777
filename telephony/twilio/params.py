"""The fields of a Twilio voice request that we use, checked and typed.

Twilio posts the same standard fields to every voice webhook (CallSid, AccountSid,
From, To, CallStatus, Direction, ...) and adds its own per kind: status callbacks carry
``Timestamp`` and ``SequenceNumber``, the Enqueue action ``QueueResult``/``QueueTime``,
the Dial action ``DialCallStatus``/``DialCallSid``/``DialCallDuration``. A request is
signed before it is parsed, so a value that does not parse is a bug or a tampered
sender, never something to guess at: it raises ``InvalidCallback`` (answered 400). A
count too large for our integer columns is dropped with a warning instead, so the rest
of the callback is still applied (the AMI side does the same, telephony/ami/fields.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from telephony.ratelog import RateLimitedLog

logger = logging.getLogger(__name__)
_too_large = RateLimitedLog(logger)
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
_MAX_TEXT = 256


class InvalidCallback(ValueError):
    """A signed request whose fields are not what Twilio sends."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Callback:
    call_sid: str
    parent_call_sid: str = ""
    status: str = ""
    direction: str = ""
    from_number: str = ""
    to: str = ""
    caller_name: str = ""
    sequence: int | None = None
    timestamp: datetime | None = None
    call_duration: int | None = None
    queue_result: str = ""
    queue_time: int | None = None
    dial_status: str = ""
    dial_call_sid: str = ""
    dial_duration: int | None = None

    @property
    def is_child(self) -> bool:
        """A leg Twilio dialled for another call (``<Dial>``): it belongs to the parent."""
        return bool(self.parent_call_sid)


def _text(data: Mapping[str, str], name: str) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > _MAX_TEXT or any(ord(c) < 32 for c in value):
        raise InvalidCallback(f"{name} is not a plausible value.")
    return value


def _sid(data: Mapping[str, str], name: str, *, required: bool = False) -> str:
    value = _text(data, name)
    if not value and not required:
        return ""
    if not _CALL_SID.match(value):
        raise InvalidCallback(f"{name} is not a call SID.")
    return value


def _count(data: Mapping[str, str], name: str) -> int | None:
    value = _text(data, name)
    if not value:
        return None
    # isascii: "²".isdigit() is true, and int() refuses it.
    if not (value.isascii() and value.isdigit()):
        raise InvalidCallback(f"{name} is not a whole number.")
    if len(value) > 9:  # 999,999,999 fits PostgreSQL's integer
        _too_large.warning("Twilio: %s=%.24r is out of range; dropped", name, value)
        return None
    return int(value)


def _timestamp(data: Mapping[str, str]) -> datetime | None:
    value = _text(data, "Timestamp")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise InvalidCallback("Timestamp is not an RFC 2822 date.") from exc
    # "-0000" (which Twilio may send) means "UTC, zone unknown" and parses naive.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_callback(data: Mapping[str, str]) -> Callback:
    """Typed fields of a Twilio voice request (``request.POST``); raises InvalidCallback."""
    return Callback(
        call_sid=_sid(data, "CallSid", required=True),
        parent_call_sid=_sid(data, "ParentCallSid"),
        status=_text(data, "CallStatus").lower(),
        direction=_text(data, "Direction").lower(),
        from_number=_text(data, "From"),
        to=_text(data, "To"),
        caller_name=_text(data, "CallerName"),
        sequence=_count(data, "SequenceNumber"),
        timestamp=_timestamp(data),
        call_duration=_count(data, "CallDuration"),
        queue_result=_text(data, "QueueResult").lower(),
        queue_time=_count(data, "QueueTime"),
        dial_status=_text(data, "DialCallStatus").lower(),
        dial_call_sid=_sid(data, "DialCallSid"),
        dial_duration=_count(data, "DialCallDuration"),
    )
