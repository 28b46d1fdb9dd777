"""Raising and clearing queue alerts from the wallboard's figures (rules: contactcenter/alerts.py).

Called with figures already computed: by each server process's queue feed when it
computes a wallboard's figures (realtime.feed), and every few seconds for every
organization by a scheduled task (``queue_alerts_evaluate_all``), so an alert is raised
or cleared with no wallboard open, and a wait that grows with no event is seen.

Several processes may judge the same figures at once: an alert is inserted under a
partial unique constraint (one open alert per queue and kind) and changed only by
conditional updates, so each raise and each clear happens once.

Emits, after commit: ``publish.queue_alerts_changed`` (the wallboards' ``alert.raised``
/ ``alert.cleared``); inside the transaction: the ``hooks.queue_alert_raised`` hook
(crm notifies the organization's supervisors and admins). Audited as
``queue_alert.raised`` / ``queue_alert.cleared``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from contactcenter import hooks, publish
from contactcenter.alerts import (
    SERVICE_LEVEL_MIN_CALLS_FIELD,
    THRESHOLD_FIELDS,
    AlertKind,
    Decision,
    OpenAlert,
    decide,
    describe,
)
from contactcenter.alerts import next_check as rules_next_check
from contactcenter.figures import QueueFigures
from contactcenter.models import CallQueue, Organization, QueueAlert
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services import audit

logger = logging.getLogger(__name__)

ACTOR = audit.Actor.system("queue alerts")


@dataclass
class Evaluation:
    """What one evaluation changed, and when the rules could next change something
    with no new figures (the feed looks again then)."""

    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    # By queue id: when to judge the queue again, with no other change.
    next_checks: dict[int, datetime] = field(default_factory=dict)


def clear_after() -> timedelta:
    return timedelta(seconds=settings.QUEUE_ALERT_CLEAR_SECONDS)


def _thresholds(row: dict[str, Any]) -> dict[AlertKind, int | None]:
    return {kind: row[name] for kind, name in THRESHOLD_FIELDS.items()}


def _queues_watched(organization_id: int, queue_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The queues with a threshold or an open alert: one statement."""
    open_alert = QueueAlert.objects.filter(queue=OuterRef("pk"), cleared_at__isnull=True)
    rows = (
        CallQueue.objects.filter(organization_id=organization_id, pk__in=queue_ids)
        .annotate(has_open=Exists(open_alert))
        .values("pk", "name", "has_open", SERVICE_LEVEL_MIN_CALLS_FIELD, *THRESHOLD_FIELDS.values())
    )
    return {
        row["pk"]: row
        for row in rows
        if row["has_open"] or any(row[name] is not None for name in THRESHOLD_FIELDS.values())
    }


def _open_alerts(
    organization_id: int, queue_ids: list[int]
) -> dict[int, dict[AlertKind, OpenAlert]]:
    found: dict[int, dict[AlertKind, OpenAlert]] = {}
    rows = QueueAlert.objects.filter(
        organization_id=organization_id, queue_id__in=queue_ids, cleared_at__isnull=True
    ).values("pk", "queue_id", "kind", "recovered_at")
    for row in rows:
        kind = AlertKind(row["kind"])
        found.setdefault(row["queue_id"], {})[kind] = OpenAlert(
            id=row["pk"], kind=kind, recovered_at=row["recovered_at"]
        )
    return found


def queue_alerts_evaluate(
    *, organization_id: int, figures: Sequence[QueueFigures], now: datetime | None = None
) -> Evaluation:
    """Judge the queues of ``figures`` (the organization's, computed at ``now``) against
    their thresholds; raise, clear and mark alerts as the rules decide.

    Costs one read when no queue of ``figures`` has a threshold or an open alert."""
    now = now or timezone.now()
    by_id = {f.queue_id: f for f in figures}
    watched = _queues_watched(organization_id, list(by_id))
    result = Evaluation()
    if not watched:
        return result
    with_open = [pk for pk, row in watched.items() if row["has_open"]]
    open_alerts = _open_alerts(organization_id, with_open) if with_open else {}
    wait = clear_after()
    todo: list[tuple[dict[str, Any], QueueFigures, Decision]] = []
    for pk, row in watched.items():
        thresholds, alerts = _thresholds(row), open_alerts.get(pk, {})
        queue_figures = by_id[pk]
        for decision in decide(
            figures=queue_figures,
            thresholds=thresholds,
            open_alerts=alerts,
            now=now,
            clear_after=wait,
            service_level_min_calls=row[SERVICE_LEVEL_MIN_CALLS_FIELD],
        ):
            todo.append((row, queue_figures, decision))
        # When nothing changes but time: recovering alerts as they are after this run.
        after = {
            kind: OpenAlert(alert.id, kind, _recovered_after(alert, todo, now))
            for kind, alert in alerts.items()
        }
        check = rules_next_check(
            figures=queue_figures,
            thresholds=thresholds,
            open_alerts=after,
            now=now,
            clear_after=wait,
        )
        if check is not None:
            result.next_checks[pk] = check
    if todo:
        _apply(organization_id, todo, now, result)
    return result


def _recovered_after(
    alert: OpenAlert, todo: list[tuple[dict[str, Any], QueueFigures, Decision]], now: datetime
) -> datetime | None:
    for _, _, decision in todo:
        if decision.alert_id == alert.id:
            if decision.action == "recovering":
                return now
            if decision.action == "relapse":
                return None
    return alert.recovered_at


@transaction.atomic
def _apply(
    organization_id: int,
    todo: list[tuple[dict[str, Any], QueueFigures, Decision]],
    now: datetime,
    result: Evaluation,
) -> None:
    for row, _, decision in todo:
        if decision.action == "raise":
            alert = _raise(organization_id, row, decision, now)
            if alert is not None:
                result.raised.append(alert.pk)
            continue
        alert_id = decision.alert_id
        assert alert_id is not None  # the rules name the open alert of every other action
        still_open = QueueAlert.objects.filter(pk=alert_id, cleared_at__isnull=True)
        if decision.action == "clear":
            if _clear(organization_id, row, decision, now):
                result.cleared.append(alert_id)
        elif decision.action == "recovering":
            still_open.filter(recovered_at__isnull=True).update(recovered_at=now)
        elif decision.action == "relapse":
            still_open.update(recovered_at=None)
    changed = result.raised + result.cleared
    if changed:
        publish.queue_alerts_changed(organization_id=organization_id, alert_ids=changed)


def _raise(
    organization_id: int, row: dict[str, Any], decision: Decision, now: datetime
) -> QueueAlert | None:
    value = decision.value if decision.value is not None else 0.0
    try:
        with transaction.atomic():  # a savepoint: losing the race must not undo the rest
            alert = QueueAlert.objects.create(
                organization_id=organization_id,
                queue_id=row["pk"],
                kind=decision.kind.value,
                threshold=decision.threshold,
                value=value,
                raised_at=now,
            )
    except IntegrityError:
        return None  # another process raised it first
    text = describe(decision.kind, value, decision.threshold)
    details = {
        "queue_id": row["pk"],
        "queue": row["name"],
        "kind": decision.kind.value,
        "threshold": decision.threshold,
        "value": value,
    }
    audit.record(
        action="queue_alert.raised",
        organization_id=organization_id,
        obj=alert,
        object_label=f"{row['name']} — {text}",
        details=details,
        actor=ACTOR,
    )
    hooks.queue_alert_raised.send(
        sender=QueueAlert,
        organization_id=organization_id,
        alert_id=alert.pk,
        queue_id=row["pk"],
        queue_name=row["name"],
        kind=decision.kind.value,
        text=text,
    )
    return alert


def _clear(organization_id: int, row: dict[str, Any], decision: Decision, now: datetime) -> bool:
    assert decision.alert_id is not None
    cleared = QueueAlert.objects.filter(pk=decision.alert_id, cleared_at__isnull=True).update(
        cleared_at=now, cleared_value=decision.value
    )
    if not cleared:
        return False  # another process cleared it first
    audit.record(
        action="queue_alert.cleared",
        organization_id=organization_id,
        object_type="contactcenter.queuealert",
        object_id=decision.alert_id,
        object_label=f"{row['name']} — {decision.kind.value}",
        details={
            "queue_id": row["pk"],
            "queue": row["name"],
            "kind": decision.kind.value,
            "value": decision.value,
        },
        actor=ACTOR,
    )
    return True


def queue_alerts_evaluate_organization(*, organization: Organization) -> Evaluation:
    """Compute the organization's figures and judge them; the alerts of queues that are
    no longer active clear."""
    now = timezone.now()
    figures = figures_by_queue(organization=organization, now=now, with_agents=False)
    result = queue_alerts_evaluate(organization_id=organization.pk, figures=figures, now=now)
    _clear_inactive(organization.pk, {f.queue_id for f in figures}, now, result)
    return result


@transaction.atomic
def _clear_inactive(
    organization_id: int, active: set[int], now: datetime, result: Evaluation
) -> None:
    stale = list(
        QueueAlert.objects.filter(organization_id=organization_id, cleared_at__isnull=True)
        .exclude(queue_id__in=active)
        .select_related("queue")
    )
    cleared: list[int] = []
    for alert in stale:
        row = {"pk": alert.queue_id, "name": alert.queue.name}
        decision = Decision(AlertKind(alert.kind), "clear", None, alert.threshold, alert.pk)
        if _clear(organization_id, row, decision, now):
            cleared.append(alert.pk)
    if cleared:
        result.cleared += cleared
        publish.queue_alerts_changed(organization_id=organization_id, alert_ids=cleared)


def queue_alerts_evaluate_all() -> int:
    """Every active organization with a queue alert configured or open; how many
    alerts were raised or cleared."""
    with_thresholds = CallQueue.objects.filter(is_active=True).exclude(
        alert_longest_wait_seconds=None,
        alert_service_level_percent=None,
        alert_callers_waiting=None,
        alert_agents_available=None,
    )
    org_ids = set(with_thresholds.values_list("organization_id", flat=True))
    org_ids |= set(
        QueueAlert.objects.filter(cleared_at__isnull=True).values_list("organization_id", flat=True)
    )
    changed = 0
    for organization in Organization.objects.filter(pk__in=org_ids, is_active=True):
        try:
            result = queue_alerts_evaluate_organization(organization=organization)
        except Exception:
            # One organization's failure must not keep the others' alerts stale.
            logger.exception("queue alerts: organization %s failed", organization.pk)
            continue
        changed += len(result.raised) + len(result.cleared)
    return changed
