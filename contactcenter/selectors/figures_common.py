"""What the figure selectors (wallboard, reports) share: the local day, ratios, seconds.

Kept apart from the queries so docs/figures.md, the selectors and the tests that
recompute every number from the call records all lean on one formula each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from contactcenter.enums import CallDirection

# A queue's traffic is its customers' calls. An internal call that reaches a queue (a
# colleague dialling it) is not offered, answered, abandoned or waiting in its figures.
QUEUE_TRAFFIC = ~Q(direction=CallDirection.INTERNAL)


@dataclass(frozen=True)
class DayWindow:
    """One calendar day of an organization, as the UTC instants [start, end)."""

    time_zone: str
    start: datetime
    end: datetime


def local_day(*, time_zone: str, now: datetime) -> DayWindow:
    """The calendar day containing ``now`` in ``time_zone``, as UTC instants.

    Midnight is built in the local zone and then converted, so a day is 23 or 25 hours
    long across a DST change. ``fold=0`` (the default) makes a midnight that a DST
    jump skips (America/Santiago) map to the first instant of that day, and a
    midnight that occurs twice map to the earlier one.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(time_zone)
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return DayWindow(time_zone=time_zone, start=start, end=end)


def percent(part: int, whole: int) -> float | None:
    """``100 * part / whole`` to one decimal, or None when there is nothing to divide by."""
    if whole == 0:
        return None
    return round(100 * part / whole, 1)


def mean(total: int | None, count: int) -> float | None:
    """An average from a SQL SUM and COUNT, to one decimal; None over no values.

    Dividing the integer sum here (instead of SQL AVG, a numeric) gives exactly the
    float anyone gets from the same rows in Python.
    """
    if count == 0 or total is None:
        return None
    return round(total / count, 1)


def elapsed_seconds(since: datetime | None, now: datetime) -> int | None:
    """Whole seconds from ``since`` to ``now``, floored, never negative (clock skew)."""
    if since is None:
        return None
    return max(0, int((now - since).total_seconds()))
