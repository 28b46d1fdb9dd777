"""Report figures per local day, computed from the raw call and agent-state records.

The same code fills the daily roll-up (services/reports.py) and answers the days a
report cannot take from it, so the two can never disagree on a definition. Every
figure is defined in docs/figures.md ("Reports"); the tests recompute each one in
plain Python from the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate

from contactcenter.enums import CallStatus
from contactcenter.models import AgentStateLog, Call, Callback, CallbackStatus, Organization
from contactcenter.selectors.figures_common import (
    QUEUE_TRAFFIC,
    DayWindow,
    local_day,
    mean,
    percent,
)
from contactcenter.selectors.wallboard import ANSWERED_STATUSES


@dataclass(frozen=True)
class QueueFigures:
    """Counts and sums of a queue's offered calls; the ratios are derived, never stored."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within_service_level: int = 0
    wait_seconds_sum: int = 0
    wait_count: int = 0
    talk_seconds_sum: int = 0
    talk_count: int = 0
    # The queue's callbacks asked for that day, and how many of those were answered or
    # given up by now (``callback_figures``; always counted live, never rolled up).
    callbacks_requested: int = 0
    callbacks_answered: int = 0
    callbacks_given_up: int = 0

    def __add__(self, other: QueueFigures) -> QueueFigures:
        return QueueFigures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def service_level_percent(self) -> float | None:
        return percent(self.answered_within_service_level, self.answered + self.abandoned)

    @property
    def abandon_rate_percent(self) -> float | None:
        return percent(self.abandoned, self.answered + self.abandoned)

    @property
    def asa_seconds(self) -> float | None:
        return mean(self.wait_seconds_sum, self.wait_count)

    @property
    def aht_seconds(self) -> float | None:
        return mean(self.talk_seconds_sum, self.talk_count)


@dataclass(frozen=True)
class AgentFigures:
    """An agent's answered calls and time in each state (whole seconds)."""

    answered: int = 0
    talk_count: int = 0
    talk_seconds_sum: int = 0
    hold_seconds_sum: int = 0
    state_seconds: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: AgentFigures) -> AgentFigures:
        states: dict[str, int] = defaultdict(int)
        for source in (self.state_seconds, other.state_seconds):
            for state, seconds in source.items():
                states[state] += seconds
        return AgentFigures(
            answered=self.answered + other.answered,
            talk_count=self.talk_count + other.talk_count,
            talk_seconds_sum=self.talk_seconds_sum + other.talk_seconds_sum,
            hold_seconds_sum=self.hold_seconds_sum + other.hold_seconds_sum,
            state_seconds=dict(states),
        )

    @property
    def aht_seconds(self) -> float | None:
        return mean(self.talk_seconds_sum, self.talk_count)


def day_window(*, time_zone: str, day: date) -> DayWindow:
    """``day`` in ``time_zone`` as UTC instants (local noon always exists, midnight may not)."""
    return local_day(
        time_zone=time_zone, now=datetime.combine(day, time(12), tzinfo=ZoneInfo(time_zone))
    )


def days_between(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def _queue_aggregates() -> dict[str, Any]:
    answered = Q(status__in=ANSWERED_STATUSES)
    gave_up = Q(status=CallStatus.ABANDONED)
    short = gave_up & Q(wait_seconds__lt=F("queue__short_abandon_seconds"))
    # A NULL wait is not short: without a measured wait the abandon counts in full.
    abandoned = gave_up & (
        Q(wait_seconds__isnull=True) | Q(wait_seconds__gte=F("queue__short_abandon_seconds"))
    )
    wait_known = answered & Q(wait_seconds__isnull=False)
    handled = Q(status=CallStatus.COMPLETED, talk_seconds__isnull=False)
    return {
        "offered": Count("id"),
        "answered": Count("id", filter=answered),
        "abandoned": Count("id", filter=abandoned),
        "short_abandoned": Count("id", filter=short),
        "answered_within_service_level": Count(
            "id", filter=answered & Q(wait_seconds__lte=F("queue__service_level_seconds"))
        ),
        "wait_seconds_sum": Sum("wait_seconds", filter=wait_known, default=0),
        "wait_count": Count("id", filter=wait_known),
        "talk_seconds_sum": Sum("talk_seconds", filter=handled, default=0),
        "talk_count": Count("id", filter=handled),
    }


def queue_figures_live(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    queue_ids: Iterable[int] | None = None,
) -> dict[tuple[int, date], QueueFigures]:
    """Each queue's figures per local day, for the days with offered calls.

    A call belongs to its queue (the first it joined) and to the local day of its
    ``queued_at``; one grouped aggregate query.
    """
    zone = ZoneInfo(organization.time_zone)
    start = day_window(time_zone=organization.time_zone, day=date_from).start
    end = day_window(time_zone=organization.time_zone, day=date_to).end
    calls = Call.objects.for_organization(organization).filter(
        QUEUE_TRAFFIC, queue__isnull=False, queued_at__gte=start, queued_at__lt=end
    )
    if queue_ids is not None:
        calls = calls.filter(queue_id__in=list(queue_ids))
    rows = (
        calls.order_by()
        .annotate(day=TruncDate("queued_at", tzinfo=zone))
        .values("queue_id", "day")
        .annotate(**_queue_aggregates())
    )
    names = [f.name for f in fields(QueueFigures) if f.name not in CALLBACK_FIGURES]
    return {
        (row["queue_id"], row["day"]): QueueFigures(**{n: row[n] for n in names}) for row in rows
    }


CALLBACK_FIGURES = ("callbacks_requested", "callbacks_answered", "callbacks_given_up")


def callback_figures(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    queue_ids: Iterable[int] | None = None,
) -> dict[tuple[int, date], dict[str, int]]:
    """Each queue's callbacks per local day they were asked for (``created_at``: a
    waiting caller's key press, or the scheduling), and of those how many are answered
    and given up now. One grouped query. Not rolled up: a callback asked for on one day
    may be answered or given up days later, and the day's figures follow it."""
    zone = ZoneInfo(organization.time_zone)
    start = day_window(time_zone=organization.time_zone, day=date_from).start
    end = day_window(time_zone=organization.time_zone, day=date_to).end
    callbacks = Callback.objects.for_organization(organization).filter(
        created_at__gte=start, created_at__lt=end
    )
    if queue_ids is not None:
        callbacks = callbacks.filter(queue_id__in=list(queue_ids))
    rows = (
        callbacks.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("queue_id", "day")
        .annotate(
            callbacks_requested=Count("id"),
            callbacks_answered=Count("id", filter=Q(status=CallbackStatus.ANSWERED)),
            callbacks_given_up=Count("id", filter=Q(status=CallbackStatus.GIVEN_UP)),
        )
    )
    return {
        (row["queue_id"], row["day"]): {name: row[name] for name in CALLBACK_FIGURES}
        for row in rows
    }


def _agent_calls(
    organization: Organization,
    start: datetime,
    end: datetime,
    agent_ids: list[int] | None,
) -> dict[tuple[int, date], AgentFigures]:
    zone = ZoneInfo(organization.time_zone)
    handled = Q(status=CallStatus.COMPLETED, talk_seconds__isnull=False)
    calls = (
        Call.objects.for_organization(organization)
        .filter(agent__isnull=False, status__in=ANSWERED_STATUSES)
        # Answered while the bridge was away: no answer time, the call's start stands in.
        .annotate(moment=Coalesce("answered_at", "started_at"))
        .filter(moment__gte=start, moment__lt=end)
    )
    if agent_ids is not None:
        calls = calls.filter(agent_id__in=agent_ids)
    rows = (
        calls.order_by()
        .annotate(day=TruncDate("moment", tzinfo=zone))
        .values("agent_id", "day")
        .annotate(
            answered=Count("id"),
            talk_count=Count("id", filter=handled),
            talk_seconds_sum=Sum("talk_seconds", filter=handled, default=0),
            hold_seconds_sum=Sum("hold_seconds", filter=handled, default=0),
        )
    )
    return {
        (row["agent_id"], row["day"]): AgentFigures(
            answered=row["answered"],
            talk_count=row["talk_count"],
            talk_seconds_sum=row["talk_seconds_sum"],
            hold_seconds_sum=row["hold_seconds_sum"],
        )
        for row in rows
    }


def _agent_states(
    organization: Organization,
    windows: dict[date, DayWindow],
    agent_ids: list[int] | None,
    now: datetime,
) -> dict[tuple[int, date], dict[str, int]]:
    """Time in each state per agent and day: each logged interval clipped to each day
    it overlaps; an open interval runs until ``now``. Summed exactly, then floored."""
    zone = ZoneInfo(organization.time_zone)
    start = min(w.start for w in windows.values())
    end = min(max(w.end for w in windows.values()), now)
    logs = (
        AgentStateLog.objects.for_organization(organization)
        .filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    )
    if agent_ids is not None:
        logs = logs.filter(agent_id__in=agent_ids)
    spent: dict[tuple[int, date], dict[str, timedelta]] = defaultdict(
        lambda: defaultdict(timedelta)
    )
    for agent_id, state, began, ended in logs.values_list(
        "agent_id", "state", "started_at", "ended_at"
    ):
        lo, hi = max(began, start), min(ended or now, end)
        day = lo.astimezone(zone).date()
        while day in windows and windows[day].start < hi:
            window = windows[day]
            piece = min(hi, window.end) - max(lo, window.start)
            if piece > timedelta(0):
                spent[(agent_id, day)][state] += piece
            day += timedelta(days=1)
    return {
        key: {state: int(total.total_seconds()) for state, total in sorted(states.items())}
        for key, states in spent.items()
    }


def agent_figures_live(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    now: datetime,
    agent_ids: Iterable[int] | None = None,
) -> dict[tuple[int, date], AgentFigures]:
    """Each agent's figures per local day, for the days with calls or logged state.

    Calls: those the agent answered (``Call.agent``, any direction), on the local day
    of ``answered_at``. State time: ``AgentStateLog`` clipped at local midnight.
    """
    ids = None if agent_ids is None else list(agent_ids)
    windows = {
        day: day_window(time_zone=organization.time_zone, day=day)
        for day in days_between(date_from, date_to)
    }
    start, end = windows[date_from].start, windows[date_to].end
    figures = _agent_calls(organization, start, end, ids)
    for key, states in _agent_states(organization, windows, ids, now).items():
        figures[key] = figures.get(key, AgentFigures()) + AgentFigures(state_seconds=states)
    return figures
