"""Notifications the way each user wants them: in the app, by e-mail, or not at all."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from crm.enums import NotificationKind
from crm.models import Notification, OutboundEmail
from crm.services import case_update
from crm.services.emails import email_send
from crm.services.notifications import notification_preference_set
from crm.tasks import email_send as email_task
from tests.conftest import Floor
from tests.crm.factories import make_case

Capture = Callable[..., Any]


@pytest.fixture
def agent_with_mail(floor_a: Floor) -> Floor:
    floor_a.agent.user.email = "agent@example.com"
    floor_a.agent.user.save()
    return floor_a


def assign(floor: Floor, capture: Capture) -> Any:
    case = make_case(floor.org, "Broken router")
    with capture(execute=True):
        return case_update(case=case, actor=floor.supervisor.user, assigned_agent=floor.agent)


def test_defaults_are_in_app_and_email(
    agent_with_mail: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    case = assign(agent_with_mail, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=agent_with_mail.agent.user)
    assert notification.kind == NotificationKind.CASE_ASSIGNED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"{case.reference} assigned to you"
    assert "Broken router" in mail.outbox[0].body
    assert OutboundEmail.objects.get().sent_at is not None


@pytest.mark.parametrize(("in_app", "email"), [(False, True), (True, False), (False, False)])
def test_preferences_are_respected(
    agent_with_mail: Floor,
    django_capture_on_commit_callbacks: Capture,
    in_app: bool,
    email: bool,
) -> None:
    notification_preference_set(
        organization_id=agent_with_mail.org.pk,
        user_id=agent_with_mail.agent.user_id,
        kind=NotificationKind.CASE_ASSIGNED,
        in_app=in_app,
        email=email,
    )
    assign(agent_with_mail, django_capture_on_commit_callbacks)
    stored = Notification.objects.filter(user=agent_with_mail.agent.user).exists()
    assert stored is in_app
    assert len(mail.outbox) == int(email)


def test_other_kinds_are_not_emailed_and_users_without_address_get_none(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    assign(floor_a, django_capture_on_commit_callbacks)  # the agent has no address
    assert Notification.objects.filter(user=floor_a.agent.user).count() == 1
    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()


def test_an_email_is_sent_once_even_if_the_task_runs_twice(
    agent_with_mail: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    assign(agent_with_mail, django_capture_on_commit_callbacks)
    email = OutboundEmail.objects.get()
    assert email_task.apply(args=(email.pk,)).get() is True
    assert email_send(email_id=email.pk) is None
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_a_failed_send_is_counted_logged_and_retried(
    agent_with_mail: Floor,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = iter([smtplib.SMTPServerDisconnected("gone")])
    real_send = mail.EmailMessage.send

    def flaky_send(self: mail.EmailMessage, fail_silently: bool = False) -> int:
        error = next(failures, None)
        if error is not None:
            raise error
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", flaky_send)
    case = make_case(agent_with_mail.org, "Broken router")
    with django_capture_on_commit_callbacks(execute=False):  # the outbox row, not the task
        case_update(case=case, actor=None, assigned_agent=agent_with_mail.agent)
    email = OutboundEmail.objects.get()
    # As a worker runs it (no propagation): the failure is retried, the retry sends.
    result = email_task.apply(args=(email.pk,), throw=False)
    assert result.get() is True
    email.refresh_from_db()
    assert email.sent_at is not None
    assert email.attempts == 2
    assert email.last_error == ""
    assert len(mail.outbox) == 1
    assert f"e-mail {email.pk} (case.assigned to user {email.user_id}) not sent" in caplog.text
    assert f"task crm.email_send retrying (args=({email.pk},)" in caplog.text
