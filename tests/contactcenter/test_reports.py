"""Report figures equal the numbers recomputed here, call by call, from the raw rows.

``expected_queues`` / ``expected_agents`` follow docs/metrics.md ("Reports") literally:
each call is put on the local calendar date of its own timestamp, each agent-state
interval is cut against each local day's bounds. They share nothing with the selector
but the rows. The same expectations hold for days computed live and for days read back
from the daily roll-up, in time zones west and east of UTC, across midnight and DST.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from contactcenter.enums import AgentState, CallStatus
from contactcenter.models import (
    Agent,
    AgentDayStats,
    AgentStateLog,
    Call,
    CallQueue,
    DailyRollup,
    Organization,
    QueueDayStats,
)
from contactcenter.selectors.reports import Report, agent_report, queue_report, settle_time
from contactcenter.services.reports import stats_rollup_day, stats_rollup_recent
from contactcenter.tasks import rollup_recent_stats
from tests.contactcenter.test_wallboard import OUTCOMES, queue_call
from tests.factories import make_agent, make_org, make_queue

pytestmark = pytest.mark.django_db

ANSWERED = {CallStatus.IN_PROGRESS, CallStatus.ON_HOLD, CallStatus.COMPLETED}
LA, KOLKATA = "America/Los_Angeles", "Asia/Kolkata"
# 2025-11-02 is 25 hours long in Los Angeles (DST ends); Kolkata has no DST.
FIRST, LAST = date(2025, 11, 1), date(2025, 11, 3)


def local(tz: str, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def days(first: date = FIRST, last: date = LAST) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# -- the independent recomputation ----------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _avg(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def queue_figures(pairs: list[tuple[Call, CallQueue]]) -> dict[str, Any]:
    answered = [(c, q) for c, q in pairs if c.status in ANSWERED]
    gave_up = [(c, q) for c, q in pairs if c.status == CallStatus.ABANDONED]
    short = [
        c
        for c, q in gave_up
        if c.wait_seconds is not None and c.wait_seconds < q.short_abandon_seconds
    ]
    abandoned = [c for c, _ in gave_up if c not in short]
    within = [
        c
        for c, q in answered
        if c.wait_seconds is not None and c.wait_seconds <= q.service_level_seconds
    ]
    talks = [
        c.talk_seconds
        for c, _ in pairs
        if c.status == CallStatus.COMPLETED and c.talk_seconds is not None
    ]
    return {
        "offered": len(pairs),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "answered_within_service_level": len(within),
        "service_level_percent": _pct(len(within), len(answered) + len(abandoned)),
        "asa_seconds": _avg([c.wait_seconds for c, _ in answered if c.wait_seconds is not None]),
        "aht_seconds": _avg(talks),
        "abandon_rate_percent": _pct(len(abandoned), len(answered) + len(abandoned)),
    }


def expected_queues(org: Organization, first: date, last: date) -> dict[str, Any]:
    tz = ZoneInfo(org.time_zone)
    queues = {q.pk: q for q in CallQueue.objects.filter(organization=org)}
    pairs = [
        (c, queues[c.queue_id])
        for c in Call.objects.filter(organization=org, queue__isnull=False)
        if c.queued_at is not None and first <= c.queued_at.astimezone(tz).date() <= last
    ]
    rows = {}
    for queue_id in queues:
        mine = [(c, q) for c, q in pairs if q.pk == queue_id]
        per_day = {
            d.isoformat(): queue_figures(
                [(c, q) for c, q in mine if c.queued_at and c.queued_at.astimezone(tz).date() == d]
            )
            for d in days(first, last)
        }
        rows[queue_id] = {"days": per_day, "totals": queue_figures(mine)}
    return {"queues": rows, "totals": queue_figures(pairs)}


def _state_seconds(org: Organization, agent: Agent, day: date, now: datetime) -> dict[str, int]:
    tz = ZoneInfo(org.time_zone)
    day_start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    spent: dict[str, timedelta] = {}
    for log in AgentStateLog.objects.filter(agent=agent):
        end = log.ended_at or now
        overlap = min(end, day_end, now) - max(log.started_at, day_start)
        if overlap > timedelta(0):
            spent[log.state] = spent.get(log.state, timedelta(0)) + overlap
    counted = {state: int(total.total_seconds()) for state, total in spent.items()}
    return {s.value: counted.get(s.value, 0) for s in AgentState}


def agent_figures(calls: list[Call], states: list[dict[str, int]]) -> dict[str, Any]:
    handled = [c for c in calls if c.status == CallStatus.COMPLETED and c.talk_seconds is not None]
    talk = sum(c.talk_seconds or 0 for c in handled)
    return {
        "answered": len(calls),
        "talk_count": len(handled),
        "talk_seconds": talk,
        "hold_seconds": sum(c.hold_seconds for c in handled),
        "aht_seconds": round(talk / len(handled), 1) if handled else None,
        "state_seconds": {s.value: sum(x[s.value] for x in states) for s in AgentState},
    }


def expected_agents(org: Organization, first: date, last: date, now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(org.time_zone)

    def day_of(call: Call) -> date:
        return (call.answered_at or call.started_at).astimezone(tz).date()

    rows = {}
    everyone_calls: list[Call] = []
    everyone_states: list[dict[str, int]] = []
    for agent in Agent.objects.filter(organization=org):
        calls = [
            c
            for c in Call.objects.filter(organization=org, agent=agent)
            if c.status in ANSWERED and first <= day_of(c) <= last
        ]
        states = {d: _state_seconds(org, agent, d, now) for d in days(first, last)}
        per_day = {
            d.isoformat(): agent_figures([c for c in calls if day_of(c) == d], [states[d]])
            for d in days(first, last)
        }
        rows[agent.pk] = {
            "days": per_day,
            "totals": agent_figures(calls, list(states.values())),
        }
        everyone_calls += calls
        everyone_states += states.values()
    return {"agents": rows, "totals": agent_figures(everyone_calls, everyone_states)}


# -- what the selector says, in the API's shape ------------------------------------------


def _queue_json(figures: Any) -> dict[str, Any]:
    names = list(queue_figures([]))
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


# -- the floor ------------------------------------------------------------------------------


def busy_floor(org: Organization, seed: int) -> tuple[list[CallQueue], list[Agent]]:
    """Two queues with different thresholds, three agents, calls over the range and just
    outside it, at midnight to the second, and state intervals across midnight."""
    rng = random.Random(seed)
    tz = org.time_zone
    queues = [make_queue(org, "support"), make_queue(org, "billing")]
    queues[1].service_level_seconds, queues[1].short_abandon_seconds = 30, 10
    queues[1].save()
    agents = [make_agent(org) for _ in range(3)]
    before, after = FIRST - timedelta(days=1), LAST + timedelta(days=1)
    times = [
        local(tz, FIRST, 0, 0, 0),
        local(tz, FIRST, 0, 0, 0) - timedelta(microseconds=1),
        local(tz, before, 23, 58),
        local(tz, LAST, 23, 58),  # offered on LAST, answered and ended after midnight
        local(tz, LAST, 23, 59, 59),
        local(tz, after, 0, 0, 0),
    ]
    for day in [before, *days(), after]:
        start = local(tz, day, 0)
        length = local(tz, day + timedelta(days=1), 0) - start
        times += [start + rng.random() * length for _ in range(25)]
    for at in times:
        outcome = rng.choice(OUTCOMES)
        call = queue_call(
            rng.choice(queues),
            queued_at=at,
            outcome=outcome,
            wait=rng.choice([0, 4, 5, 9, 10, 19, 20, 21, 30, 31, 150]),
            talk=rng.randint(0, 900),
        )
        if call.status in ANSWERED:
            Call.objects.filter(pk=call.pk).update(agent=rng.choice(agents))
    # The call queued at 23:58 on LAST: answered 2.5 minutes later, on the next day.
    late = queue_call(
        queues[0], queued_at=local(tz, LAST, 23, 58), outcome="completed", wait=150, talk=600
    )
    Call.objects.filter(pk=late.pk).update(agent=agents[0])
    # Agent 0: available 22:00 on FIRST to 01:30 the next day, paused to 01:45, then on
    # a call until 02:00; agent 1: a state that began before the range and is still open.
    log(
        agents[0],
        AgentState.AVAILABLE,
        local(tz, FIRST, 22),
        local(tz, FIRST + timedelta(1), 1, 30),
    )
    log(
        agents[0],
        AgentState.PAUSED,
        local(tz, FIRST + timedelta(1), 1, 30),
        local(tz, FIRST + timedelta(1), 1, 45),
    )
    log(
        agents[0],
        AgentState.ON_CALL,
        local(tz, FIRST + timedelta(1), 1, 45),
        local(tz, FIRST + timedelta(1), 2),
    )
    log(agents[1], AgentState.WRAP_UP, local(tz, before, 20), None)
    log(agents[2], AgentState.AVAILABLE, local(tz, LAST, 23, 30), local(tz, after, 0, 15))
    return queues, agents


def log(agent: Agent, state: str, start: datetime, end: datetime | None) -> None:
    AgentStateLog.objects.create(
        organization_id=agent.organization_id,
        agent=agent,
        state=state,
        started_at=start,
        ended_at=end,
    )


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
