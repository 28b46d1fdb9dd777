"""Notifications for users: created by the system, read and dismissed by their owner."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import Role
from contactcenter.errors import ApplicationError
from contactcenter.models import Membership, User
from contactcenter.services import audit
from crm.enums import EMAIL_NOTIFICATION_KINDS, NotificationKind
from crm.models import Notification, NotificationPreference
from crm.selectors.notifications import notification_preference_get
from crm.services._common import UNSET, Unset
from crm.services.emails import email_queue


def _check_kind(kind: str) -> None:
    if kind not in NotificationKind.values:
        raise ApplicationError(
            f'"{kind}" is not a valid choice.', code="invalid_choice", field="kind"
        )


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
    the user's consoles. Preferences are not consulted here: see user_notify."""
    _check_kind(kind)
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
    audit.created(notification, fields=["user", "kind", "title"])
    publish.notification_created(notification_id=notification.pk)
    return notification


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    """Idempotent: reading a read notification keeps the first read time. After commit
    (when it changed): ``notification.read`` to the user's consoles."""
    if notification.read_at is None:
        notification.read_at = read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        audit.record(action="read", organization_id=notification.organization_id, obj=notification)
        publish.notification_read(
            user_id=notification.user_id, notification_id=notification.pk, read_at=read_at
        )
    return notification


@transaction.atomic
def notification_mark_all_read(*, user_id: int, organization_id: int) -> int:
    """Mark every unread notification of the user as read; returns how many changed."""
    count = Notification.objects.filter(
        organization_id=organization_id, user_id=user_id, read_at__isnull=True
    ).update(read_at=timezone.now())
    if count:
        audit.record(
            action="read_all",
            organization_id=organization_id,
            object_type="crm.notification",
            details={"user_id": user_id, "count": count},
        )
    return count


@transaction.atomic
def notification_delete(*, notification: Notification) -> None:
    audit.deleted(notification)
    notification.delete()


@transaction.atomic
def user_notify(
    *,
    organization_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    email_text: str = "",
) -> Notification | None:
    """Tell a member something, the ways they want: in the app (stored, and pushed after
    commit as ``notification.created``) and, for the kinds that warrant it
    (EMAIL_NOTIFICATION_KINDS) and a user with an address, by e-mail (``email_text`` as
    the body, ``body`` when empty) through the outbox. Returns the in-app notification,
    or None when the user turned those off."""
    _check_kind(kind)
    preference = notification_preference_get(user_id=user_id, kind=kind)
    notification = None
    if preference.in_app:
        notification = notification_create(
            organization_id=organization_id,
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            data=data,
        )
    if preference.email and kind in EMAIL_NOTIFICATION_KINDS:
        address = User.objects.filter(pk=user_id).values_list("email", flat=True).first()
        if address:
            email_queue(
                organization_id=organization_id,
                user_id=user_id,
                to_address=address,
                kind=kind,
                subject=title,
                body=email_text or body,
            )
    return notification


@transaction.atomic
def notification_preference_set(
    *,
    organization_id: int,
    user_id: int,
    kind: str,
    in_app: bool | Unset = UNSET,
    email: bool | Unset = UNSET,
) -> NotificationPreference:
    """Change a user's choice for one kind; what is not passed keeps its value."""
    _check_kind(kind)
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user_id=user_id, kind=kind, defaults={"organization_id": organization_id}
    )
    before = audit.snapshot(preference)
    if not isinstance(in_app, Unset):
        preference.in_app = in_app
    if not isinstance(email, Unset):
        preference.email = email
    preference.save()
    audit.updated(preference, before)
    return preference


def floor_notify_queue_alert(
    *,
    organization_id: int,
    alert_id: int,
    queue_id: int,
    queue_name: str,
    kind: str,
    text: str,
) -> int:
    """A queue alert was raised: tell each active supervisor and admin of the
    organization (in the app, as they chose: kind ``queue.alert``). Returns how many
    were notified."""
    users = Membership.objects.filter(
        organization_id=organization_id,
        role__in=(Role.ADMIN, Role.SUPERVISOR),
        user__is_active=True,
    ).values_list("user_id", flat=True)
    notified = 0
    for user_id in users.order_by("user_id"):
        notification = user_notify(
            organization_id=organization_id,
            user_id=user_id,
            kind=NotificationKind.QUEUE_ALERT,
            title=f"{queue_name} — {text}",
            data={"alert_id": alert_id, "queue_id": queue_id, "alert_kind": kind},
        )
        notified += notification is not None
    return notified
