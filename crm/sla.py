"""Business-hours arithmetic for case due dates (pure: no database).

A response time is counted in business minutes: only the minutes inside the business
hours of business days, in the organization's time zone, skipping holidays. Adding 60
business minutes to Friday 16:30 with hours 09:00-17:00 gives Monday 09:30.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# More than a year of days without a business hour means the calendar is broken.
_MAX_DAYS = 400


@dataclass(frozen=True, slots=True)
class BusinessHours:
    time_zone: str
    business_days: frozenset[int]  # datetime.weekday(): Monday 0 ... Sunday 6
    day_start: dt.time
    day_end: dt.time
    holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if not self.business_days or not self.business_days <= set(range(7)):
            raise ValueError("business_days must name at least one weekday, 0 (Mon) to 6 (Sun).")
        if self.day_end <= self.day_start:
            raise ValueError("day_end must be after day_start.")

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """That day's business hours as aware UTC times, or None on a day off."""
        if day.weekday() not in self.business_days or day in self.holidays:
            return None
        zone = ZoneInfo(self.time_zone)
        start = dt.datetime.combine(day, self.day_start, tzinfo=zone)
        end = dt.datetime.combine(day, self.day_end, tzinfo=zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def parse_business_days(value: object) -> frozenset[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in value)
    ):
        raise ValueError("A non-empty list of weekdays, 0 (Monday) to 6 (Sunday).")
    return frozenset(value)


def parse_holidays(value: object) -> frozenset[dt.date]:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise ValueError('A list of ISO dates, e.g. ["2026-12-25"].')
    try:
        return frozenset(dt.date.fromisoformat(d) for d in value)
    except ValueError as exc:
        raise ValueError(f'A list of ISO dates, e.g. ["2026-12-25"]: {exc}.') from None


def business_deadline(start: dt.datetime, minutes: int, hours: BusinessHours) -> dt.datetime:
    """The aware UTC time ``minutes`` business minutes after ``start`` (aware).

    Zero minutes from outside business hours is the next opening. Arithmetic is done
    in UTC: subtracting two aware times of one ZoneInfo ignores a DST change between them.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime.")
    if minutes < 0:
        raise ValueError("minutes must not be negative.")
    moment = start.astimezone(dt.UTC)
    remaining = dt.timedelta(minutes=minutes)
    day = moment.astimezone(ZoneInfo(hours.time_zone)).date()
    for _ in range(_MAX_DAYS):
        window = hours.window(day)
        day += dt.timedelta(days=1)
        if window is None or moment >= window[1]:
            continue
        opened = max(moment, window[0])
        available = window[1] - opened
        if remaining <= available:
            return opened + remaining
        remaining -= available
    raise ValueError(f"No business hours within {_MAX_DAYS} days.")
