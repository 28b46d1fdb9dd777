"""The organization's "today": local midnight to local midnight, as UTC instants."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contactcenter.selectors.figures_common import local_day
from tests.contactcenter.wallboard_figures import NY, local


@pytest.mark.parametrize(
    ("tz", "wall", "hours"),
    [
        (NY, (2025, 3, 9, 12), 23),
        (NY, (2025, 11, 2, 23, 30), 25),
        ("America/Santiago", (2024, 9, 8, 10), 23),  # local midnight does not exist
        ("Asia/Kolkata", (2025, 1, 1, 0, 10), 24),
        ("UTC", (2025, 6, 30, 23, 59), 24),
    ],
)
def test_local_day_is_the_calendar_day_in_the_zone(tz: str, wall: tuple, hours: int) -> None:
    now = local(tz, *wall)
    day = local_day(time_zone=tz, now=now)
    assert day.end - day.start == timedelta(hours=hours)
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    assert day.start.astimezone(zone).date() == today
    assert (day.start - timedelta(microseconds=1)).astimezone(zone).date() < today
    assert (day.end - timedelta(microseconds=1)).astimezone(zone).date() == today
    assert day.end.astimezone(zone).date() > today


def test_local_day_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_day(time_zone="UTC", now=datetime(2025, 1, 1))
