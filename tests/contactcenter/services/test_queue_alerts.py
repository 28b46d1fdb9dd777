"""Queue alerts raised and cleared from the wallboard's figures (services/queue_alerts.py):
the rows, the audit trail, the supervisors' notifications, what is published, and the
races of several processes judging the same figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contactcenter.enums import CallStatus
from contactcenter.models import AuditEntry, CallQueue, QueueAlert
from contactcenter.selectors.alerts import queue_alerts_between, queue_alerts_open
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services.queue_alerts import (
    queue_alerts_evaluate,
    queue_alerts_evaluate_all,
    queue_alerts_evaluate_organization,
)
from crm.models import Notification
from tests.conftest import Floor
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db


def waiting_callers(floor: Floor, queue: CallQueue, n: int, waited: int = 10) -> list[Any]:
    queued_at = timezone.now() - timedelta(seconds=waited)
    calls = []
    for _ in range(n):
        call = make_call(floor.org, queue=queue, status=CallStatus.QUEUED)
        call.queued_at = queued_at
        call.save(update_fields=["queued_at"])
        calls.append(call)
    return calls


def judge(floor: Floor, now: Any = None) -> Any:
    now = now or timezone.now()
    return queue_alerts_evaluate(
        organization_id=floor.org.pk,
        figures=figures_by_queue(organization=floor.org, now=now, with_agents=False),
        now=now,
    )


def test_a_crossed_threshold_raises_an_alert_audited_and_notified(
    floor_a: Floor, floor_b: Floor
) -> None:
    queue = make_queue(floor_a.org, "support")
    queue.alert_callers_waiting = 1
    queue.save()
    waiting_callers(floor_a, queue, 2)
    make_queue(floor_b.org, "support")
    waiting_callers(floor_b, CallQueue.objects.get(organization=floor_b.org), 5)

    result = judge(floor_a)

    alert = QueueAlert.objects.get()
    assert result.raised == [alert.pk] and result.cleared == []
    assert (alert.organization_id, alert.queue_id, alert.kind) == (
        floor_a.org.pk,
        queue.pk,
        "callers_waiting",
    )
    assert (alert.threshold, alert.value, alert.cleared_at) == (1, 2.0, None)
    entry = AuditEntry.objects.get(action="queue_alert.raised")
    assert entry.organization_id == floor_a.org.pk
    assert entry.object_id == str(alert.pk)
    assert entry.details == {
        "queue_id": queue.pk,
        "queue": "Support",
        "kind": "callers_waiting",
        "threshold": 1,
        "value": 2.0,
    }
    # The organization's supervisors and admins are told; its agents and the other
    # organization's people are not.
    notified = Notification.objects.filter(kind="queue.alert")
    assert {n.user_id for n in notified} == {floor_a.supervisor.user_id, floor_a.admin.user_id}
    assert {n.title for n in notified} == {"Support — Callers waiting: 2 (above 1)"}
    assert notified[0].data == {
        "alert_id": alert.pk,
        "queue_id": queue.pk,
        "alert_kind": "callers_waiting",
    }


def test_judging_the_same_figures_again_raises_nothing_more(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    queue.alert_longest_wait_seconds = 30
    queue.save()
    waiting_callers(floor_a, queue, 1, waited=45)
    now = timezone.now()
    figures = figures_by_queue(organization=floor_a.org, now=now, with_agents=False)
    first = queue_alerts_evaluate(organization_id=floor_a.org.pk, figures=figures, now=now)
    # A second server process with the same figures, before or after the first commit.
    again = queue_alerts_evaluate(organization_id=floor_a.org.pk, figures=figures, now=now)
    assert len(first.raised) == 1 and again.raised == []
    assert QueueAlert.objects.count() == 1
    assert AuditEntry.objects.filter(action="queue_alert.raised").count() == 1
    assert Notification.objects.filter(kind="queue.alert").count() == 2


def test_recovery_clears_after_the_hysteresis_and_a_relapse_keeps_it(
    floor_a: Floor, settings: Any
) -> None:
    settings.QUEUE_ALERT_CLEAR_SECONDS = 30
    queue = make_queue(floor_a.org, "support")
    queue.alert_callers_waiting = 1
    queue.save()
    calls = waiting_callers(floor_a, queue, 2)
    start = timezone.now()
    judge(floor_a, start)
    alert = QueueAlert.objects.get()

    # One caller answered: back within the threshold, recovering.
    calls[0].status = CallStatus.IN_PROGRESS
    calls[0].save(update_fields=["status"])
    result = judge(floor_a, start + timedelta(seconds=1))
    alert.refresh_from_db()
    assert alert.cleared_at is None and alert.recovered_at == start + timedelta(seconds=1)
    assert result.next_checks == {queue.pk: start + timedelta(seconds=31)}

    # A new caller within the 30 s: bad again, it stays raised, the wait starts over.
    waiting_callers(floor_a, queue, 1)
    judge(floor_a, start + timedelta(seconds=10))
    alert.refresh_from_db()
    assert alert.cleared_at is None and alert.recovered_at is None
    assert QueueAlert.objects.count() == 1  # not cleared and raised again

    Notification.objects.all().delete()
    calls[1].status = CallStatus.IN_PROGRESS
    calls[1].save(update_fields=["status"])
    judge(floor_a, start + timedelta(seconds=11))
    judge(floor_a, start + timedelta(seconds=40))  # 29 s good: not yet
    alert.refresh_from_db()
    assert alert.cleared_at is None
    result = judge(floor_a, start + timedelta(seconds=41))
    alert.refresh_from_db()
    assert result.cleared == [alert.pk]
    assert (alert.cleared_at, alert.cleared_value) == (start + timedelta(seconds=41), 1.0)
    assert AuditEntry.objects.filter(action="queue_alert.cleared", object_id=str(alert.pk)).exists()
    assert not Notification.objects.exists()  # a clearing is on the wallboard, not notified
    assert queue_alerts_open(organization_id=floor_a.org.pk) == []


def test_each_raise_is_a_row_a_report_can_list(floor_a: Floor, settings: Any) -> None:
    settings.QUEUE_ALERT_CLEAR_SECONDS = 0
    queue = make_queue(floor_a.org, "support")
    queue.alert_agents_available = 1  # nobody is available on this floor
    queue.save()
    start = timezone.now()
    judge(floor_a, start)
    queue.alert_agents_available = None  # the threshold removed: its alert clears at once
    queue.save()
    judge(floor_a, start + timedelta(minutes=1))
    queue.alert_agents_available = 1
    queue.save()
    judge(floor_a, start + timedelta(minutes=2))
    rows = queue_alerts_between(
        organization_id=floor_a.org.pk,
        since=start - timedelta(hours=1),
        until=start + timedelta(hours=1),
    )
    assert [(a.kind, a.cleared_at is None) for a in rows] == [
        ("agents_available", True),
        ("agents_available", False),
    ]


def test_the_scheduled_run_judges_every_organization_and_clears_inactive_queues(
    floor_a: Floor, floor_b: Floor, settings: Any
) -> None:
    settings.QUEUE_ALERT_CLEAR_SECONDS = 0
    for floor in (floor_a, floor_b):
        queue = make_queue(floor.org, "support")
        queue.alert_callers_waiting = 0
        queue.save()
        waiting_callers(floor, queue, 1)
    assert queue_alerts_evaluate_all() == 2
    assert QueueAlert.objects.filter(cleared_at=None).count() == 2
    assert queue_alerts_evaluate_all() == 0  # nothing changed

    CallQueue.objects.filter(organization=floor_b.org).update(is_active=False)
    assert queue_alerts_evaluate_all() == 1
    assert queue_alerts_open(organization_id=floor_b.org.pk) == []
    assert len(queue_alerts_open(organization_id=floor_a.org.pk)) == 1


def test_an_organization_with_no_threshold_costs_one_read(
    floor_a: Floor, django_assert_num_queries: Any
) -> None:
    make_queue(floor_a.org, "support")
    figures = figures_by_queue(organization=floor_a.org, with_agents=False)
    with django_assert_num_queries(1):
        result = queue_alerts_evaluate(organization_id=floor_a.org.pk, figures=figures)
    assert (result.raised, result.cleared, result.next_checks) == ([], [], {})


def answered_late(floor: Floor, queue: CallQueue, n: int) -> None:
    for _ in range(n):
        call = make_call(floor.org, queue=queue, status=CallStatus.COMPLETED)
        call.queued_at = timezone.now() - timedelta(minutes=5)
        call.wait_seconds = 60  # beyond the queue's 20 s
        call.save(update_fields=["queued_at", "wait_seconds"])


def test_judging_one_organization_computes_its_figures(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    queue.alert_service_level_percent = 80
    queue.alert_service_level_min_calls = 1
    queue.save()
    answered_late(floor_a, queue, 1)
    result = queue_alerts_evaluate_organization(organization=floor_a.org)
    alert = QueueAlert.objects.get(pk__in=result.raised)
    assert (alert.kind, alert.value, alert.threshold) == ("service_level", 0.0, 80)


def test_the_service_level_waits_for_the_queues_minimum_of_calls(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    queue.alert_service_level_percent = 80
    queue.save()
    assert queue.alert_service_level_min_calls == 10  # the default
    answered_late(floor_a, queue, 9)
    (figures,) = figures_by_queue(organization=floor_a.org, with_agents=False)
    assert (figures.answered, figures.service_level_percent) == (9, 0.0)
    result = queue_alerts_evaluate_organization(organization=floor_a.org)
    assert (result.raised, queue_alerts_open(organization_id=floor_a.org.pk)) == ([], [])
    assert not AuditEntry.objects.filter(action="queue_alert.raised").exists()
    assert not Notification.objects.exists()

    answered_late(floor_a, queue, 1)  # the tenth
    result = queue_alerts_evaluate_organization(organization=floor_a.org)
    alert = QueueAlert.objects.get(pk__in=result.raised)
    assert (alert.kind, alert.value, alert.threshold) == ("service_level", 0.0, 80)

    # The minimum raised above today's calls: nothing to judge, the alert recovers and
    # clears as with a good figure.
    CallQueue.objects.filter(pk=queue.pk).update(alert_service_level_min_calls=20)
    now = timezone.now()
    assert judge(floor_a, now).cleared == []  # recovering
    assert judge(floor_a, now + timedelta(seconds=31)).cleared == [alert.pk]
