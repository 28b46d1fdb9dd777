"""Queue and agent reports over a date range: per local day, per queue or agent, totals.

A day comes from the daily roll-up only when its roll-up is final (computed at least
``CALLS_STALE_AFTER_HOURS + 1`` hours after the day ended, in the organization's
current time zone); every other day, today included, is computed live from the raw
records with the same code that fills the roll-up. So a report is never stale, and a
closed period costs one indexed read. Totals add up counts and sums and divide once.
docs/reports.md describes the contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Literal, TypeVar

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from contactcenter.models import (
    Agent,
    AgentDayStats,
    CallQueue,
    DailyRollup,
    Organization,
    QueueDayStats,
)
from contactcenter.selectors.reports_figures import (
    AgentFigures,
    QueueFigures,
    agent_figures_live,
    callback_figures,
    day_window,
    days_between,
    queue_figures_live,
)

Source = Literal["rollup", "live"]
_F = TypeVar("_F", QueueFigures, AgentFigures)


@dataclass(frozen=True)
class ReportDay(Generic[_F]):
    date: date
    source: Source
    figures: _F


@dataclass(frozen=True)
class ReportRow(Generic[_F]):
    """One queue or agent: its days in order, and the range's totals."""

    id: int
    name: str
    extension: str
    days: list[ReportDay[_F]]
    totals: _F


@dataclass(frozen=True)
class Report(Generic[_F]):
    time_zone: str
    date_from: date
    date_to: date
    generated_at: datetime
    rows: list[ReportRow[_F]]
    totals: _F


def settle_time() -> timedelta:
    """How long after a day ends its calls can still change (the sweep closes the rest)."""
    return timedelta(hours=settings.CALLS_STALE_AFTER_HOURS + 1)


def final_days(*, organization: Organization, days: Iterable[date]) -> set[date]:
    """The days whose roll-up can be trusted: computed after they settled, in the
    organization's present time zone."""
    markers = DailyRollup.objects.for_organization(organization).filter(
        date__in=list(days), time_zone=organization.time_zone
    )
    settle = settle_time()
    return {
        m.date
        for m in markers
        if m.computed_at >= day_window(time_zone=m.time_zone, day=m.date).end + settle
    }


def _queue_rollup(
    organization: Organization, days: set[date], queue_ids: list[int] | None
) -> dict[tuple[int, date], QueueFigures]:
    rows = QueueDayStats.objects.for_organization(organization).filter(date__in=days)
    if queue_ids is not None:
        rows = rows.filter(queue_id__in=queue_ids)
    return {
        (row.queue_id, row.date): QueueFigures(
            offered=row.offered,
            answered=row.answered,
            abandoned=row.abandoned,
            short_abandoned=row.short_abandoned,
            answered_within_service_level=row.answered_within_service_level,
            wait_seconds_sum=row.wait_seconds_sum,
            wait_count=row.wait_count,
            talk_seconds_sum=row.talk_seconds_sum,
            talk_count=row.talk_count,
        )
        for row in rows
    }


def _agent_rollup(
    organization: Organization, days: set[date], agent_ids: list[int] | None
) -> dict[tuple[int, date], AgentFigures]:
    rows = AgentDayStats.objects.for_organization(organization).filter(date__in=days)
    if agent_ids is not None:
        rows = rows.filter(agent_id__in=agent_ids)
    return {
        (row.agent_id, row.date): AgentFigures(
            answered=row.answered,
            talk_count=row.talk_count,
            talk_seconds_sum=row.talk_seconds_sum,
            hold_seconds_sum=row.hold_seconds_sum,
            state_seconds={k: int(v) for k, v in row.state_seconds.items()},
        )
        for row in rows
    }


def _assemble(
    days: list[date],
    final: set[date],
    figures: dict[tuple[int, date], _F],
    subjects: list[tuple[int, str, str]],
    zero: _F,
) -> tuple[list[ReportRow[_F]], _F]:
    rows: list[ReportRow[_F]] = []
    grand = zero
    for subject_id, name, extension in subjects:
        series = [
            ReportDay(
                day, "rollup" if day in final else "live", figures.get((subject_id, day), zero)
            )
            for day in days
        ]
        total = zero
        for entry in series:
            total = total + entry.figures
        rows.append(ReportRow(subject_id, name, extension, series, total))
        grand = grand + total
    return rows, grand


def _figures(
    organization: Organization,
    days: list[date],
    final: set[date],
    rollup: Callable[[set[date]], dict[tuple[int, date], _F]],
    live: Callable[[date, date], dict[tuple[int, date], _F]],
) -> dict[tuple[int, date], _F]:
    figures = rollup(final) if final else {}
    pending = [day for day in days if day not in final]
    if pending:
        # One live query over the span of the days the roll-up cannot answer.
        computed = live(pending[0], pending[-1])
        figures.update({key: value for key, value in computed.items() if key[1] not in final})
    return figures


def queue_report(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    queue_id: int | None = None,
    now: datetime | None = None,
) -> Report[QueueFigures]:
    """Per queue and local day: the figures of docs/figures.md ("Reports").

    Queues listed: ``queue_id`` alone, or every active queue plus any other with calls
    in the range, ordered by name. Every day of the range appears, zeros included.
    """
    now = now or timezone.now()
    days = days_between(date_from, date_to)
    final = final_days(organization=organization, days=days)
    ids = None if queue_id is None else [queue_id]
    figures = _figures(
        organization,
        days,
        final,
        lambda fin: _queue_rollup(organization, fin, ids),
        lambda lo, hi: queue_figures_live(
            organization=organization, date_from=lo, date_to=hi, queue_ids=ids
        ),
    )
    asked = callback_figures(
        organization=organization, date_from=date_from, date_to=date_to, queue_ids=ids
    )
    for key, counts in asked.items():
        figures[key] = dataclasses.replace(figures.get(key, QueueFigures()), **counts)
    queues = CallQueue.objects.for_organization(organization)
    if queue_id is not None:
        queues = queues.filter(pk=queue_id)
    else:
        queues = queues.filter(Q(is_active=True) | Q(pk__in={key[0] for key in figures}))
    subjects = [(q.pk, q.name, "") for q in queues.order_by("name", "id")]
    rows, totals = _assemble(days, final, figures, subjects, QueueFigures())
    return Report(organization.time_zone, date_from, date_to, now, rows, totals)


def agent_report(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> Report[AgentFigures]:
    """Per agent and local day: answered calls, talk and hold time, time in each state.

    Agents listed: ``agent_id`` alone, or every active agent plus any other with figures
    in the range, ordered by extension.
    """
    now = now or timezone.now()
    days = days_between(date_from, date_to)
    final = final_days(organization=organization, days=days)
    ids = None if agent_id is None else [agent_id]
    figures = _figures(
        organization,
        days,
        final,
        lambda fin: _agent_rollup(organization, fin, ids),
        lambda lo, hi: agent_figures_live(
            organization=organization, date_from=lo, date_to=hi, now=now, agent_ids=ids
        ),
    )
    agents = Agent.objects.for_organization(organization)
    if agent_id is not None:
        agents = agents.filter(pk=agent_id)
    else:
        agents = agents.filter(Q(is_active=True) | Q(pk__in={key[0] for key in figures}))
    subjects = [(a.pk, a.name, a.extension) for a in agents.order_by("extension", "id")]
    rows, totals = _assemble(days, final, figures, subjects, AgentFigures())
    return Report(organization.time_zone, date_from, date_to, now, rows, totals)
