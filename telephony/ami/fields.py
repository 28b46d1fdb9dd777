"""Reading AMI field values: times, unknowns, channels and devices (docs/ami.md §2-3)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from telephony.ratelog import RateLimitedLog

logger = logging.getLogger(__name__)


class Fields(Protocol):
    """Anything with a case-insensitive ``get``: our AmiMessage, panoramisk's Message."""

    def get(self, key: str, default: Any = None) -> Any: ...


_UNKNOWN = {"", "<unknown>", "unknown", "<Unknown>"}
# "PJSIP/1001-0000002a" -> "PJSIP/1001"; "Local/1001@agents-00000001;1" -> "Local/1001@agents"
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]{8,}(;\d)?$")
_SYSTEM_PREFIX = re.compile(r"^.*-(?=\d+\.\d+$)")


def text(msg: Fields, key: str) -> str:
    """The field's value with Asterisk's spellings of "nothing" turned into ""."""
    value = msg.get(key)
    if isinstance(value, list):  # panoramisk turns repeated keys into lists
        value = value[0] if value else ""
    value = (value or "").strip()
    return "" if value in _UNKNOWN else value


# The numbers we read (times, positions, counts, causes) are never negative, and they land
# in PostgreSQL integer columns: a 20-digit HoldTime once made the database refuse the
# whole answer fact, and the call stayed open until the next resync.
INT_MAX = 2**31 - 1
_out_of_range = RateLimitedLog(logger)


def integer(msg: Fields, key: str) -> int | None:
    """The field as a whole number from 0 to INT_MAX; None if absent, not a number or out
    of that range (dropped with a rate-limited warning: the rest of the fact stands)."""
    raw = text(msg, key)
    try:
        value = int(raw)
    except ValueError:
        return None
    if 0 <= value <= INT_MAX:
        return value
    _out_of_range.warning("AMI: %s=%.24r is out of range; dropped", key, raw)
    return None


def flag(msg: Fields, key: str) -> bool:
    return text(msg, key).lower() in {"1", "yes", "true", "on"}


def timestamp(msg: Fields) -> datetime | None:
    """The event's ``Timestamp`` (epoch.usec, timestampevents=yes) as aware UTC."""
    raw = text(msg, "Timestamp")
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC) if raw else None
    except (ValueError, OverflowError, OSError):
        return None


def device_of(channel: str) -> str:
    """The device (queue member interface) a channel belongs to."""
    return _CHANNEL_SUFFIX.sub("", channel)


def uniqueid_epoch(uniqueid: str) -> datetime | None:
    """Creation time (whole seconds) encoded in a Uniqueid, systemname prefix allowed."""
    bare = _SYSTEM_PREFIX.sub("", uniqueid)
    try:
        return datetime.fromtimestamp(int(bare.split(".", 1)[0]), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def duration(raw: str) -> timedelta | None:
    """CoreShowChannel's ``Duration`` (HH:MM:SS)."""
    parts = raw.split(":")
    # isascii: "²".isdigit() is true and int() refuses it. Past INT_MAX seconds: dropped.
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        return None
    hours, minutes, seconds = (int(p) for p in parts)
    lasted = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return lasted if lasted.total_seconds() <= INT_MAX else None


# ast_device_state numbers (QueueMemberStatus Status) -> our device words.
DEVICE_STATES = {
    "0": "unknown",
    "1": "idle",
    "2": "in_use",
    "3": "busy",
    "4": "invalid",
    "5": "unavailable",
    "6": "ringing",
    "7": "ring_in_use",
    "8": "on_hold",
}
