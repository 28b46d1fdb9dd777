"""A user's notifications."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.enums import NotificationKind
from crm.models import Notification, NotificationPreference


def notification_list_for_user(*, user_id: int, organization_id: int) -> QuerySet[Notification]:
    """Only ever the user's own: no role sees another member's notifications."""
    notifications: QuerySet[Notification] = Notification.objects.for_organization(organization_id)
    return notifications.filter(notification_owner_q(user_id=user_id))


def notification_of_user(
    *, user_id: int, organization_id: int, notification_id: int
) -> Notification | None:
    """The user's own notification ``notification_id``; ``None`` when there is none of
    that id, or it is another member's or another organization's (no difference shows)."""
    notifications = notification_list_for_user(user_id=user_id, organization_id=organization_id)
    return notifications.filter(pk=notification_id).first()


def notification_list_unread(
    *, user_id: int, organization_id: int, limit: int
) -> list[Notification]:
    """The user's unread notifications, newest first, at most ``limit`` of them."""
    notifications = notification_list_for_user(user_id=user_id, organization_id=organization_id)
    unread = notifications.filter(read_at__isnull=True).order_by("-created_at", "-id")
    return list(unread[:limit])


def notification_owner_q(*, user_id: int) -> Q:
    return Q(user_id=user_id)


def notification_preference_get(*, user_id: int, kind: str) -> NotificationPreference:
    """The user's choice for ``kind``; an unsaved one with both channels on when unset."""
    preference = NotificationPreference.objects.filter(user_id=user_id, kind=kind).first()
    return preference or NotificationPreference(user_id=user_id, kind=kind)


def notification_preference_list(*, user_id: int) -> list[NotificationPreference]:
    """One per notification kind, in the kinds' order, defaults filled in."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user_id=user_id)}
    return [
        saved.get(kind) or NotificationPreference(user_id=user_id, kind=kind)
        for kind in NotificationKind.values
    ]


def notification_by_id(*, notification_id: int) -> Notification | None:
    """The notification, or ``None`` once deleted (a publisher reading it after commit)."""
    return Notification.objects.filter(pk=notification_id).first()
