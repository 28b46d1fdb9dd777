"""Notifications for users: created by the system, read and dismissed by their owner."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from contactcenter import notify
from contactcenter.errors import ApplicationError
from contactcenter.models import Membership
from crm.enums import NotificationKind
from crm.models import Notification


@transaction.atomic
def notification_create(
    *,
    organization_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
) -> Notification:
    """Notify a member of the organization. After commit: ``notification.created`` to
    the user's consoles."""
    if kind not in NotificationKind.values:
        raise ApplicationError(
            f'"{kind}" is not a valid choice.', code="invalid_choice", field="kind"
        )
    if not Membership.objects.filter(user_id=user_id, organization_id=organization_id).exists():
        raise ApplicationError("The user is not a member of this organization.", field="user")
    notification = Notification.objects.create(
        organization_id=organization_id,
        user_id=user_id,
        kind=kind,
        title=title[:200],  # the column's length: a long case title must not fail the change
        body=body,
        data=data or {},
    )
    notify.notification_created(notification=notification)
    return notification


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    """Idempotent: reading a read notification keeps the first read time. After commit
    (when it changed): ``notification.read`` to the user's consoles."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        notify.notification_read(notification=notification)
    return notification


@transaction.atomic
def notification_mark_all_read(*, user_id: int, organization_id: int) -> int:
    """Mark every unread notification of the user as read; returns how many changed."""
    return Notification.objects.filter(
        organization_id=organization_id, user_id=user_id, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def notification_delete(*, notification: Notification) -> None:
    notification.delete()
