"""Overdue cases: flagged once, their owner told once (in the app and by e-mail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from crm.enums import CaseStatus, NotificationKind
from crm.models import Case, Notification
from crm.services import case_update
from crm.services.overdue import case_overdue_mark
from crm.tasks import cases_mark_overdue
from tests.conftest import Floor
from tests.crm.factories import make_case

Capture = Callable[..., Any]


def test_overdue_cases_are_flagged_and_owners_told_once(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    floor_a.agent.user.email = "agent@example.com"
    floor_a.agent.user.save()
    now = timezone.now()
    late = make_case(
        floor_a.org, "Late", assigned_agent=floor_a.agent, due_at=now - dt.timedelta(minutes=1)
    )
    unassigned = make_case(floor_a.org, "Nobody's", due_at=now - dt.timedelta(hours=1))
    make_case(floor_a.org, "Not yet", assigned_agent=floor_a.agent, due_at=now + dt.timedelta(1))
    make_case(
        floor_a.org,
        "Done",
        assigned_agent=floor_a.agent,
        status=CaseStatus.RESOLVED,
        due_at=now - dt.timedelta(hours=2),
    )
    make_case(floor_a.org, "No due date", assigned_agent=floor_a.agent, due_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        assert cases_mark_overdue.apply().get() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert cases_mark_overdue.apply().get() == 0  # the next beat: nothing new

    flagged = set(Case.objects.filter(overdue_at__isnull=False).values_list("pk", flat=True))
    assert flagged == {late.pk, unassigned.pk}
    notes = Notification.objects.filter(kind=NotificationKind.CASE_OVERDUE)
    assert [(n.user_id, n.data["case_id"]) for n in notes] == [(floor_a.agent.user_id, late.pk)]
    assert [m.subject for m in mail.outbox] == [f"{late.reference} is overdue"]
    assert "Due:" in mail.outbox[0].body


def test_a_new_due_date_can_be_missed_again(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    now = timezone.now()
    case = make_case(floor_a.org, assigned_agent=floor_a.agent, due_at=now - dt.timedelta(1))
    with django_capture_on_commit_callbacks(execute=True):
        assert case_overdue_mark(now=now) == [case.pk]
        case = case_update(case=case, actor=None, due_at=now + dt.timedelta(hours=1))
    assert case.overdue_at is None
    assert case_overdue_mark(now=now) == []
    later = now + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert case_overdue_mark(now=later) == [case.pk]
    assert Notification.objects.filter(kind=NotificationKind.CASE_OVERDUE).count() == 2


@pytest.mark.django_db
def test_overdue_sweep_works_in_batches(floor_a: Floor) -> None:
    past = timezone.now() - dt.timedelta(1)
    cases = [make_case(floor_a.org, f"Case {i}", due_at=past) for i in range(5)]
    assert len(case_overdue_mark(limit=2)) == 2
    assert len(case_overdue_mark(limit=2)) == 2
    assert len(case_overdue_mark(limit=2)) == 1
    assert Case.objects.filter(pk__in=[c.pk for c in cases], overdue_at__isnull=True).count() == 0
