"""Case due dates: business minutes in the organization's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crm.enums import CasePriority
from crm.models import CaseSlaPolicy
from crm.selectors.sla import case_due_at
from crm.sla import BusinessHours, business_deadline
from tests.conftest import Floor
from tests.crm.factories import make_case
from tests.factories import make_org

NY = ZoneInfo("America/New_York")
HOURS = BusinessHours(
    time_zone="America/New_York",
    business_days=frozenset(range(5)),
    day_start=dt.time(9),
    day_end=dt.time(17),
)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # Friday evening (EST) + 1 h: Monday 09:30, after the weekend and the DST change
        # (8 March 2026), so the UTC offset differs: 14:30Z would be an hour off.
        (ny(2026, 3, 6, 16, 30), 60, ny(2026, 3, 9, 9, 30)),
        (ny(2026, 3, 6, 20, 0), 30, ny(2026, 3, 9, 9, 30)),  # Friday night
        (ny(2026, 3, 10, 20, 0), 30, ny(2026, 3, 11, 9, 30)),  # Tuesday evening
        (ny(2026, 3, 10, 7, 0), 0, ny(2026, 3, 10, 9, 0)),  # before opening: the opening
        (ny(2026, 3, 10, 16, 0), 60, ny(2026, 3, 10, 17, 0)),  # exactly to the close
        (ny(2026, 3, 9, 10, 0), 3 * 480, ny(2026, 3, 12, 10, 0)),  # three business days
        (ny(2026, 3, 7, 12, 0), 60, ny(2026, 3, 9, 10, 0)),  # Saturday
    ],
)
def test_business_deadline(start: dt.datetime, minutes: int, due: dt.datetime) -> None:
    result = business_deadline(start, minutes, HOURS)
    assert result == due
    assert result.tzinfo == dt.UTC


def test_deadline_is_utc_arithmetic_across_dst() -> None:
    due = business_deadline(ny(2026, 3, 6, 16, 30), 60, HOURS)
    assert due == dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC)  # EDT is UTC-4


def test_holidays_are_skipped() -> None:
    hours = BusinessHours(
        time_zone="America/New_York",
        business_days=frozenset(range(5)),
        day_start=dt.time(9),
        day_end=dt.time(17),
        holidays=frozenset({dt.date(2026, 3, 9)}),
    )
    assert business_deadline(ny(2026, 3, 6, 16, 30), 60, hours) == ny(2026, 3, 10, 9, 30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"business_days": frozenset()}, "business_days"),
        ({"business_days": frozenset({7})}, "business_days"),
        ({"day_start": dt.time(17), "day_end": dt.time(9)}, "day_end"),
    ],
)
def test_bad_calendar_is_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "time_zone": "UTC",
        "business_days": frozenset({0}),
        "day_start": dt.time(9),
        "day_end": dt.time(17),
    }
    with pytest.raises(ValueError, match=message):
        BusinessHours(**(base | kwargs))  # type: ignore[arg-type]


def test_naive_start_and_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_deadline(dt.datetime(2026, 3, 9, 10), 10, HOURS)
    with pytest.raises(ValueError, match="negative"):
        business_deadline(ny(2026, 3, 9, 10), -1, HOURS)


@pytest.mark.django_db
def test_default_policy_per_priority_in_org_zone() -> None:
    org = make_org(time_zone="America/New_York")
    friday = ny(2026, 3, 6, 16, 30)
    due = {p: case_due_at(organization=org, priority=p, start=friday) for p in CasePriority}
    assert due == {
        CasePriority.URGENT: ny(2026, 3, 9, 9, 30),  # 60 min
        CasePriority.HIGH: ny(2026, 3, 9, 12, 30),  # 4 h
        CasePriority.NORMAL: ny(2026, 3, 9, 16, 30),  # 8 h
        CasePriority.LOW: ny(2026, 3, 11, 16, 30),  # 3 days
    }


@pytest.mark.django_db
def test_organization_policy_is_used() -> None:
    org = make_org(time_zone="Europe/Paris")
    CaseSlaPolicy.objects.create(
        organization=org,
        business_days=[0, 1, 2, 3, 4, 5],  # Saturdays too
        day_start=dt.time(8),
        day_end=dt.time(12),
        urgent_minutes=30,
        holidays=["2026-03-09"],
    )
    paris = ZoneInfo("Europe/Paris")
    saturday_evening = dt.datetime(2026, 3, 7, 19, 0, tzinfo=paris)
    due = case_due_at(organization=org, priority="urgent", start=saturday_evening)
    assert due == dt.datetime(2026, 3, 10, 8, 30, tzinfo=paris)  # Monday is a holiday


@pytest.mark.django_db
def test_policy_validation() -> None:
    org = make_org()
    policy = CaseSlaPolicy(organization=org, business_days=[7], holidays=["someday"])
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert set(error.value.message_dict) == {"business_days", "holidays"}


def test_case_gets_its_due_date_from_the_sla(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor_a.org.time_zone = "America/New_York"
    floor_a.org.save()
    saturday = ny(2026, 3, 7, 11, 0)
    monkeypatch.setattr("django.utils.timezone.now", lambda: saturday.astimezone(dt.UTC))
    case = make_case(floor_a.org, priority="high")
    assert case.due_at == ny(2026, 3, 9, 13, 0)
    # An explicit due date stands, and None means no due date.
    assert make_case(floor_a.org, due_at=None).due_at is None
    explicit = ny(2026, 4, 1, 12, 0)
    assert make_case(floor_a.org, due_at=explicit).due_at == explicit
