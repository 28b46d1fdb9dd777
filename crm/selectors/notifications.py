"""A user's notifications."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.models import Notification


def notification_list_for_user(*, user_id: int, organization_id: int) -> QuerySet[Notification]:
    """Only ever the user's own: no role sees another member's notifications."""
    notifications: QuerySet[Notification] = Notification.objects.for_organization(organization_id)
    return notifications.filter(notification_owner_q(user_id=user_id))


def notification_owner_q(*, user_id: int) -> Q:
    return Q(user_id=user_id)
