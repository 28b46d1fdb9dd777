"""The organization's rules when a call gets a disposition (Celery eager, after commit)."""

from __future__ import annotations

import pytest
from django.core import mail

from contactcenter.enums import CallDirection
from contactcenter.models import CallDisposition
from contactcenter.services.calls import call_set_disposition, call_update_notes
from crm.enums import CaseOrigin, CasePriority, NotificationKind
from crm.models import Case, CaseHistory, Contact, FollowUp, Notification
from crm.services.dispositions import call_disposition_apply
from crm.tasks import call_disposition_apply as task
from tests.conftest import Floor
from tests.crm.factories import (
    Capture,
    make_category,
    make_contact,
    make_disposition,
    set_disposition,
)
from tests.factories import make_call


@pytest.fixture
def complaint(floor_a: Floor) -> CallDisposition:
    return make_disposition(
        floor_a,
        requires_case_creation=True,
        default_case_category=make_category(floor_a.org, "Complaints"),
        default_case_priority=CasePriority.HIGH,
    )


def test_disposition_opens_one_case_for_an_unknown_caller(
    floor_a: Floor,
    complaint: CallDisposition,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent, caller_number="(555) 201-0001")
    call.caller_name = "JANE ROE"
    call.save()
    call_update_notes(call=call, notes="Charged twice for March.", actor=None)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)

    case = Case.objects.get(source_call=call)
    assert case.origin == CaseOrigin.DISPOSITION
    assert case.source_disposition == complaint
    assert case.category == complaint.default_case_category
    assert case.priority == CasePriority.HIGH
    assert case.description == "Charged twice for March."
    assert case.assigned_agent == floor_a.agent
    assert case.created_by == floor_a.agent_member.user
    assert case.due_at is not None  # from the SLA
    contact = Contact.objects.get(pk=case.contact_id)
    assert list(contact.phones.values_list("number", flat=True)) == ["+15552010001"]
    assert contact.first_name == "JANE ROE"
    assert case.title == "Complaint: JANE ROE"


def test_known_contact_is_reused_and_outbound_uses_the_callee(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    known = make_contact(floor_a.org, "+15551230000")
    call = make_call(floor_a.org, agent=floor_a.agent)
    call.direction = CallDirection.OUTBOUND  # the customer is the callee, +15551230000
    call.save()
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    assert Case.objects.get(source_call=call).contact == known
    assert Contact.objects.count() == 1


def test_anonymous_caller_gets_a_case_without_contact(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent, caller_number="anonymous")
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    case = Case.objects.get(source_call=call)
    assert case.contact is None
    assert case.title == "Complaint: anonymous"


def test_task_delivered_twice_opens_one_case(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    with django_capture_on_commit_callbacks(execute=True):
        again = task.apply(args=(call.pk, complaint.pk)).get()
    assert again["case_created"] is False
    assert again["case_id"] == Case.objects.get(source_call=call).pk
    assert Case.objects.filter(source_call=call).count() == 1
    assert CaseHistory.objects.filter(case__source_call=call).count() == 0


def test_the_database_refuses_a_second_disposition_case(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    """The constraint, not only the service's check, keeps it to one."""
    from django.db import IntegrityError, transaction

    from tests.crm.factories import make_case

    call = make_call(floor_a.org, agent=floor_a.agent)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_case(floor_a.org, source_call=call, origin=CaseOrigin.DISPOSITION)
    # A person may still open other cases about the same call.
    make_case(floor_a.org, source_call=call)
    assert Case.objects.filter(source_call=call).count() == 2


def test_changing_the_disposition_is_history_not_a_second_case(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    billing = make_disposition(floor_a, "billing", requires_case_creation=True)
    call = make_call(floor_a.org, agent=floor_a.agent)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    call = set_disposition(django_capture_on_commit_callbacks, call, billing, floor_a)
    call = set_disposition(django_capture_on_commit_callbacks, call, None, floor_a)

    case = Case.objects.get(source_call=call)
    history = list(case.history.values_list("field", "old_value", "new_value", "changed_by"))
    user = floor_a.agent_member.user_id
    assert history == [
        ("disposition", "complaint", "billing", user),
        ("disposition", "billing", None, user),
    ]
    assert case.source_disposition is None
    # A stale run (the disposition it was queued for is gone) changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        stale = call_disposition_apply(call_id=call.pk, disposition_id=complaint.pk)
    assert stale.skipped
    assert case.history.count() == 2


def test_case_comes_when_a_later_disposition_asks_for_it(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    resolved = make_disposition(floor_a, "resolved")
    call = make_call(floor_a.org, agent=floor_a.agent)
    call = set_disposition(django_capture_on_commit_callbacks, call, resolved, floor_a)
    assert not Case.objects.filter(source_call=call).exists()
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    case = Case.objects.get(source_call=call)
    assert case.history.count() == 0


def test_follow_up_is_scheduled_for_the_agent(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    callback = make_disposition(floor_a, "callback", requires_follow_up=True)
    call = make_call(floor_a.org, agent=floor_a.other_agent)
    call_update_notes(call=call, notes="Call back after 3pm", actor=None)
    set_disposition(django_capture_on_commit_callbacks, call, callback, floor_a)
    with django_capture_on_commit_callbacks(execute=True):
        task.apply(args=(call.pk, callback.pk))  # delivered twice

    follow_up = FollowUp.objects.get(source_call=call)
    assert follow_up.agent == floor_a.other_agent
    assert follow_up.note == "Call back after 3pm"
    assert follow_up.case is None
    assert follow_up.contact is not None
    assert follow_up.due_at > call.started_at
    assert not Case.objects.filter(source_call=call).exists()
    notes = Notification.objects.filter(user=floor_a.other_agent.user)
    assert list(notes.values_list("kind", flat=True)) == [NotificationKind.FOLLOW_UP_SCHEDULED]
    assert notes.get().data["follow_up_id"] == follow_up.pk


def test_case_and_follow_up_together(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    both = make_disposition(
        floor_a, "complaint-callback", requires_case_creation=True, requires_follow_up=True
    )
    call = make_call(floor_a.org, agent=floor_a.agent)
    set_disposition(django_capture_on_commit_callbacks, call, both, floor_a)
    case = Case.objects.get(source_call=call)
    follow_up = FollowUp.objects.get(source_call=call)
    assert follow_up.case == case
    assert follow_up.contact == case.contact


def test_disposition_set_by_a_supervisor_notifies_the_agent_by_mail(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    floor_a.agent.user.email = "agent@example.com"
    floor_a.agent.user.save()
    call = make_call(floor_a.org, agent=floor_a.agent)
    with django_capture_on_commit_callbacks(execute=True):
        call_set_disposition(call=call, disposition=complaint, actor=floor_a.supervisor.user)
    case = Case.objects.get(source_call=call)
    notification = Notification.objects.get(user=floor_a.agent.user)
    assert notification.kind == NotificationKind.CASE_ASSIGNED
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert case.reference in mail.outbox[0].subject
    assert "Priority: High" in mail.outbox[0].body


def test_agent_closing_their_own_call_is_not_told_about_it(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    floor_a.agent.user.email = "agent@example.com"
    floor_a.agent.user.save()
    call = make_call(floor_a.org, agent=floor_a.agent)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    assert Case.objects.filter(source_call=call).exists()
    assert not Notification.objects.filter(user=floor_a.agent.user).exists()
    assert mail.outbox == []


def test_call_without_agent_is_assigned_to_who_set_the_disposition(
    floor_a: Floor, complaint: CallDisposition, django_capture_on_commit_callbacks: Capture
) -> None:
    call = make_call(floor_a.org, agent=None)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    assert Case.objects.get(source_call=call).assigned_agent == floor_a.agent


def test_rules_for_a_deleted_call_do_nothing(floor_a: Floor) -> None:
    result = call_disposition_apply(call_id=987654321, disposition_id=None)
    assert result.skipped
