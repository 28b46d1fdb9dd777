"""Report figures equal the numbers recomputed call by call from the raw rows
(tests/contactcenter/report_figures.py). The same expectations hold for days computed
live and for days read back from the daily roll-up, in time zones west and east of UTC,
across midnight and DST.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from contactcenter.enums import AgentState, CallStatus
from contactcenter.models import (
    AgentDayStats,
    Call,
    DailyRollup,
    Organization,
    QueueDayStats,
)
from contactcenter.selectors.reports import Report, agent_report, queue_report, settle_time
from contactcenter.services.reports import stats_rollup_day, stats_rollup_recent
from contactcenter.tasks import rollup_recent_stats
from tests.contactcenter.report_figures import (
    FIRST,
    KOLKATA,
    LA,
    LAST,
    NO_CALLBACKS,
    busy_floor,
    days,
    expected_agents,
    expected_queues,
    local,
    log,
)
from tests.contactcenter.wallboard_figures import queue_call, queue_figures
from tests.factories import make_agent, make_org, make_queue

pytestmark = pytest.mark.django_db


# -- what the selector says, in the API's shape ------------------------------------------


def _queue_json(figures: Any) -> dict[str, Any]:
    names = [*queue_figures([]), *NO_CALLBACKS]
    return {name: getattr(figures, name) for name in names}


def _agent_json(figures: Any) -> dict[str, Any]:
    return {
        "answered": figures.answered,
        "talk_count": figures.talk_count,
        "talk_seconds": figures.talk_seconds_sum,
        "hold_seconds": figures.hold_seconds_sum,
        "aht_seconds": figures.aht_seconds,
        "state_seconds": {s.value: figures.state_seconds.get(s.value, 0) for s in AgentState},
    }


def reported(report: Report[Any], shape: Any) -> dict[str, Any]:
    return {
        "rows": {
            row.id: {
                "days": {d.date.isoformat(): shape(d.figures) for d in row.days},
                "totals": shape(row.totals),
            }
            for row in report.rows
        },
        "totals": shape(report.totals),
    }


def sources(report: Report[Any]) -> set[str]:
    return {d.source for row in report.rows for d in row.days}


@pytest.fixture(params=[LA, KOLKATA])
def org(request: Any) -> Organization:
    return make_org(f"Org {request.param}", time_zone=request.param)


# -- tests ----------------------------------------------------------------------------------


def test_live_queue_report_equals_the_call_records(org: Organization) -> None:
    busy_floor(org, seed=5)
    report = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    expected = expected_queues(org, FIRST, LAST)
    got = reported(report, _queue_json)
    assert got["rows"] == expected["queues"]
    assert got["totals"] == expected["totals"]
    assert sources(report) == {"live"}
    assert [d.date for d in report.rows[0].days] == days()
    assert report.time_zone == org.time_zone
    # Something real was counted: the floor is not all zeros.
    assert expected["totals"]["offered"] > 50 and expected["totals"]["answered"] > 5
    assert expected["totals"]["callbacks_requested"] > 10
    assert expected["totals"]["callbacks_answered"] + expected["totals"]["callbacks_given_up"] > 0


def test_live_agent_report_equals_the_records(org: Organization) -> None:
    busy_floor(org, seed=6)
    now = timezone.now()
    report = agent_report(organization=org, date_from=FIRST, date_to=LAST, now=now)
    expected = expected_agents(org, FIRST, LAST, now)
    got = reported(report, _agent_json)
    assert got["rows"] == expected["agents"]
    assert got["totals"] == expected["totals"]


def test_a_call_queued_at_23_58_counts_for_its_queue_that_day_and_its_agent_the_next(
    org: Organization,
) -> None:
    tz = org.time_zone
    queue = make_queue(org)
    agent = make_agent(org)
    call = queue_call(
        queue, queued_at=local(tz, FIRST, 23, 58), outcome="completed", wait=150, talk=600
    )
    Call.objects.filter(pk=call.pk).update(agent=agent)
    second = FIRST + timedelta(days=1)

    queues = queue_report(organization=org, date_from=FIRST, date_to=second)
    [row] = queues.rows
    assert [(d.date, d.figures.offered, d.figures.answered) for d in row.days] == [
        (FIRST, 1, 1),
        (second, 0, 0),
    ]
    assert row.days[0].figures.aht_seconds == 600.0
    assert row.days[0].figures.answered_within_service_level == 0  # waited 150 s > 20 s

    agents = agent_report(organization=org, date_from=FIRST, date_to=second)
    [mine] = [r for r in agents.rows if r.id == agent.pk]
    assert [d.figures.answered for d in mine.days] == [0, 1]
    assert mine.totals.talk_seconds_sum == 600


def test_agent_state_time_is_cut_at_local_midnight(org: Organization) -> None:
    tz = org.time_zone
    agent = make_agent(org)
    second = FIRST + timedelta(days=1)
    log(agent, AgentState.AVAILABLE, local(tz, FIRST, 22), local(tz, second, 1, 30))
    report = agent_report(organization=org, date_from=FIRST, date_to=second, agent_id=agent.pk)
    [row] = report.rows
    assert [d.figures.state_seconds for d in row.days] == [
        {AgentState.AVAILABLE: 2 * 3600},
        {AgentState.AVAILABLE: 3600 + 1800},
    ]
    assert row.totals.state_seconds == {AgentState.AVAILABLE: 3 * 3600 + 1800}


def test_rolled_up_days_give_the_same_numbers_and_are_read_from_the_rollup(
    org: Organization,
) -> None:
    busy_floor(org, seed=7)
    now = timezone.now()
    before_queues = expected_queues(org, FIRST, LAST)
    before_agents = expected_agents(org, FIRST, LAST, now)
    for day in days():
        stats_rollup_day(organization=org, day=day, now=now)
    assert DailyRollup.objects.filter(organization=org).count() == 3

    queues = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    agents = agent_report(organization=org, date_from=FIRST, date_to=LAST, now=now)
    assert sources(queues) == sources(agents) == {"rollup"}
    assert reported(queues, _queue_json)["rows"] == before_queues["queues"]
    assert reported(queues, _queue_json)["totals"] == before_queues["totals"]
    assert reported(agents, _agent_json)["rows"] == before_agents["agents"]
    assert reported(agents, _agent_json)["totals"] == before_agents["totals"]

    # Final days really come from the roll-up: the raw rows are no longer read.
    Call.objects.filter(organization=org).delete()
    again = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    assert reported(again, _queue_json)["totals"] == before_queues["totals"]


def test_a_rollup_that_is_not_final_yet_is_not_trusted(org: Organization) -> None:
    queues, _ = busy_floor(org, seed=8)
    end_of_last = local(org.time_zone, LAST + timedelta(days=1), 0)
    # Rolled up one minute too early: a call of that day could still change.
    stats_rollup_day(
        organization=org, day=LAST, now=end_of_last + settle_time() - timedelta(minutes=1)
    )
    stats_rollup_day(organization=org, day=FIRST, now=end_of_last + settle_time())
    report = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    assert [d.source for d in report.rows[0].days] == ["rollup", "live", "live"]
    # A change after the early roll-up shows, because that day is computed live.
    extra = queue_call(
        queues[0], queued_at=local(org.time_zone, LAST, 12), outcome="abandoned", wait=60
    )
    assert extra.status == CallStatus.ABANDONED
    report = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    assert reported(report, _queue_json)["rows"] == expected_queues(org, FIRST, LAST)["queues"]
    # A day rolled up in another time zone is not trusted either.
    org.time_zone = "UTC" if org.time_zone != "UTC" else LA
    org.save()
    report = queue_report(organization=org, date_from=FIRST, date_to=LAST)
    assert sources(report) == {"live"}


def test_rollup_is_idempotent_and_follows_changes(org: Organization) -> None:
    queues, _ = busy_floor(org, seed=9)
    now = timezone.now()

    def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        q = QueueDayStats.objects.filter(organization=org).order_by("queue_id", "date")
        a = AgentDayStats.objects.filter(organization=org).order_by("agent_id", "date")
        return (
            list(
                q.values_list("pk", "queue_id", "date", "offered", "answered", "talk_seconds_sum")
            ),
            list(a.values_list("pk", "agent_id", "date", "answered", "state_seconds")),
        )

    stats_rollup_day(organization=org, day=FIRST, now=now)
    first = snapshot()
    assert len(first[0]) == 2  # both queues had calls that day
    stats_rollup_day(organization=org, day=FIRST, now=now)
    assert snapshot() == first  # same rows, same keys: updated in place

    # The billing queue's calls of that day go away: its row goes with them.
    tz = ZoneInfo(org.time_zone)
    gone = [
        c.pk
        for c in Call.objects.filter(queue=queues[1])
        if c.queued_at and c.queued_at.astimezone(tz).date() == FIRST
    ]
    Call.objects.filter(pk__in=gone).delete()
    stats_rollup_day(organization=org, day=FIRST, now=now)
    rows = QueueDayStats.objects.filter(organization=org, date=FIRST)
    assert [r.queue_id for r in rows] == [queues[0].pk]


def test_recent_rollup_covers_yesterday_and_today_in_the_local_zone(org: Organization) -> None:
    now = local(org.time_zone, LAST, 0, 30)  # just after local midnight
    assert stats_rollup_recent(organization=org, now=now) == [LAST - timedelta(days=1), LAST]
    marked = DailyRollup.objects.filter(organization=org).order_by("date")
    assert [(m.date, m.time_zone, m.computed_at) for m in marked] == [
        (LAST - timedelta(days=1), org.time_zone, now),
        (LAST, org.time_zone, now),
    ]


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks queued with .delay run in this process (a real worker is not the point here)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_the_beat_task_rolls_up_every_active_organization(settings: Any, eager: None) -> None:
    active, inactive = make_org(time_zone=LA), make_org(time_zone=KOLKATA)
    inactive.is_active = False
    inactive.save()
    assert rollup_recent_stats.apply().get() >= 1
    assert DailyRollup.objects.filter(organization=active).count() == 2
    assert not DailyRollup.objects.filter(organization=inactive).exists()
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contactcenter.rollup_recent_stats" in schedule


def test_reports_read_one_organization_only(org: Organization) -> None:
    busy_floor(org, seed=10)
    other = make_org("Other", time_zone=org.time_zone)
    report = queue_report(organization=other, date_from=FIRST, date_to=LAST)
    assert report.rows == []
    assert report.totals.offered == 0
    agents = agent_report(organization=other, date_from=FIRST, date_to=LAST)
    assert agents.rows == [] and agents.totals.answered == 0
