"""Queue alerts as the screens and reports read them (rules: contactcenter/alerts.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contactcenter.models import QueueAlert


def queue_alerts_open(*, organization_id: int, queue_id: int | None = None) -> list[QueueAlert]:
    """The organization's raised alerts (one queue's, with ``queue_id``), oldest first."""
    alerts = QueueAlert.objects.filter(organization_id=organization_id, cleared_at__isnull=True)
    if queue_id is not None:
        alerts = alerts.filter(queue_id=queue_id)
    return list(alerts.select_related("queue").order_by("raised_at", "id"))


def queue_alerts_by_ids(*, organization_id: int, alert_ids: Iterable[int]) -> list[QueueAlert]:
    return list(
        QueueAlert.objects.filter(organization_id=organization_id, pk__in=list(alert_ids))
        .select_related("queue")
        .order_by("raised_at", "id")
    )


def queue_alerts_between(
    *,
    organization_id: int,
    since: datetime,
    until: datetime,
    queue_id: int | None = None,
) -> list[QueueAlert]:
    """The alerts raised in [since, until) or still raised at ``since``: what a report of
    that period shows, newest first."""
    alerts = QueueAlert.objects.filter(organization_id=organization_id, raised_at__lt=until)
    alerts = alerts.exclude(cleared_at__lt=since)
    if queue_id is not None:
        alerts = alerts.filter(queue_id=queue_id)
    return list(alerts.select_related("queue").order_by("-raised_at", "-id"))
