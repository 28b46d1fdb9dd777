"""E-mail through Django's mail backend, by an outbox: the row is written with the change
that warrants it, a task sends it after commit.

A row is sent at most once (``sent_at`` is set under a row lock, so a task delivered
twice sends once); a failed send is counted and retried by the task with backoff.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from contactcenter.services import audit
from crm.models import OutboundEmail

logger = logging.getLogger(__name__)


def email_queue(
    *,
    organization_id: int,
    user_id: int | None,
    to_address: str,
    kind: str,
    subject: str,
    body: str,
) -> OutboundEmail:
    """Write an e-mail to the outbox. After commit: the ``crm.email_send`` task."""
    email = OutboundEmail.objects.create(
        organization_id=organization_id,
        user_id=user_id,
        to_address=to_address,
        kind=kind,
        subject=subject[:200],
        body=body,
    )
    audit.created(email, fields=["user", "to_address", "kind", "subject"])
    # A lambda, not a partial: Django names the callback (__qualname__) when it fails.
    transaction.on_commit(lambda: _enqueue(email.pk), robust=True)
    return email


def _enqueue(email_id: int) -> None:
    from crm.tasks import email_send as task

    task.delay(email_id)


@transaction.atomic
def email_send(*, email_id: int) -> str | None:
    """Send one outbox e-mail unless it was sent already. Returns the error of a failed
    attempt (counted on the row, for the task to retry), None when sent or nothing to do."""
    email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
    if email is None or email.sent_at is not None:
        return None
    email.attempts += 1
    try:
        send_mail(
            email.subject,
            email.body,
            settings.DEFAULT_FROM_EMAIL,
            [email.to_address],
            fail_silently=False,
        )
    except (OSError, smtplib.SMTPException) as exc:
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.save(update_fields=["attempts", "last_error"])
        audit.record(
            action="send_failed",
            organization_id=email.organization_id,
            obj=email,
            details={"attempts": email.attempts, "error": email.last_error},
        )
        logger.warning(
            "e-mail %s (%s to user %s) not sent: %s",
            email.pk,
            email.kind,
            email.user_id,
            email.last_error,
        )
        return email.last_error
    email.sent_at = timezone.now()
    email.last_error = ""
    email.save(update_fields=["attempts", "sent_at", "last_error"])
    audit.record(action="send", organization_id=email.organization_id, obj=email)
    return None
