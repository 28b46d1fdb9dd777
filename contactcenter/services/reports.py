"""The daily roll-up: per-queue and per-agent figures of one local day, stored.

Computed by the same selector code that answers live report days
(selectors/reports_figures.py), then upserted; rows of queues or agents that no longer
have figures that day are removed, so running it again gives the same rows
(idempotent). Reports trust a day's rows once it is final (selectors/reports.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from contactcenter.models import AgentDayStats, DailyRollup, Organization, QueueDayStats
from contactcenter.selectors.reports_figures import agent_figures_live, queue_figures_live
from contactcenter.services import audit

_QUEUE_FIELDS = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "answered_within_service_level",
    "wait_seconds_sum",
    "wait_count",
    "talk_seconds_sum",
    "talk_count",
]
_AGENT_FIELDS = ["answered", "talk_count", "talk_seconds_sum", "hold_seconds_sum", "state_seconds"]


def _store_queues(organization: Organization, day: date, now: datetime) -> None:
    figures = queue_figures_live(organization=organization, date_from=day, date_to=day)
    rows = [
        QueueDayStats(
            organization=organization,
            queue_id=queue_id,
            date=day,
            computed_at=now,
            **{name: getattr(value, name) for name in _QUEUE_FIELDS},
        )
        for (queue_id, _), value in figures.items()
    ]
    QueueDayStats.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["queue", "date"],
        update_fields=[*_QUEUE_FIELDS, "computed_at"],
    )
    stale = QueueDayStats.objects.for_organization(organization).filter(date=day)
    stale.exclude(queue_id__in=[queue_id for queue_id, _ in figures]).delete()


def _store_agents(organization: Organization, day: date, now: datetime) -> None:
    figures = agent_figures_live(organization=organization, date_from=day, date_to=day, now=now)
    rows = [
        AgentDayStats(
            organization=organization,
            agent_id=agent_id,
            date=day,
            computed_at=now,
            answered=value.answered,
            talk_count=value.talk_count,
            talk_seconds_sum=value.talk_seconds_sum,
            hold_seconds_sum=value.hold_seconds_sum,
            state_seconds=dict(value.state_seconds),
        )
        for (agent_id, _), value in figures.items()
    ]
    AgentDayStats.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["agent", "date"],
        update_fields=[*_AGENT_FIELDS, "computed_at"],
    )
    stale = AgentDayStats.objects.for_organization(organization).filter(date=day)
    stale.exclude(agent_id__in=[agent_id for agent_id, _ in figures]).delete()


@transaction.atomic
def stats_rollup_day(
    *, organization: Organization, day: date, now: datetime | None = None
) -> DailyRollup:
    """Recompute and store ``organization``'s figures for local ``day``.

    Idempotent, and safe to run concurrently: runs for the same day queue up on the
    day's ``DailyRollup`` row. An agent's open state interval counts until ``now``.
    """
    now = now or timezone.now()
    marker, _ = DailyRollup.objects.get_or_create(
        organization=organization,
        date=day,
        defaults={"time_zone": organization.time_zone, "computed_at": now},
    )
    marker = DailyRollup.objects.select_for_update().get(pk=marker.pk)
    _store_queues(organization, day, now)
    _store_agents(organization, day, now)
    marker.time_zone = organization.time_zone
    marker.computed_at = now
    marker.save(update_fields=["time_zone", "computed_at"])
    # Figures derived from the calls and states (themselves audited): one entry per run.
    audit.record(
        action="rollup",
        organization_id=organization.pk,
        obj=marker,
        details={"day": day.isoformat()},
    )
    return marker


def stats_rollup_recent(*, organization: Organization, now: datetime | None = None) -> list[date]:
    """Roll up yesterday and today (so far) in the organization's time zone."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(organization.time_zone)).date()
    days = [today - timedelta(days=1), today]
    for day in days:
        stats_rollup_day(organization=organization, day=day, now=now)
    return days
