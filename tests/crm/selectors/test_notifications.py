"""A user's notifications as the console reads them (crm/selectors/notifications.py):
only ever their own, in their organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.enums import NotificationKind
from crm.models import Notification
from crm.selectors import notification_list_unread, notification_of_user
from crm.services.notifications import notification_create, notification_mark_read
from tests.conftest import Floor

pytestmark = pytest.mark.django_db


def _notify(member: object, title: str) -> Notification:
    return notification_create(
        organization_id=member.organization_id,  # type: ignore[attr-defined]
        user_id=member.user_id,  # type: ignore[attr-defined]
        kind=NotificationKind.SYSTEM,
        title=title,
    )


def test_a_notification_by_id_is_the_users_own_or_none(floor_a: Floor, floor_b: Floor) -> None:
    me = floor_a.agent_member
    mine = _notify(me, "mine")
    colleagues = _notify(floor_a.supervisor, "a colleague's")
    elsewhere = _notify(floor_b.agent_member, "another organization's")

    def of_me(notification_id: int, organization_id: int = floor_a.org.pk) -> object:
        return notification_of_user(
            user_id=me.user_id, organization_id=organization_id, notification_id=notification_id
        )

    assert of_me(mine.pk) == mine
    assert of_me(colleagues.pk) is None
    assert of_me(elsewhere.pk) is None
    assert of_me(elsewhere.pk, organization_id=floor_b.org.pk) is None
    assert of_me(mine.pk, organization_id=floor_b.org.pk) is None
    assert of_me(max(mine.pk, colleagues.pk, elsewhere.pk) + 1) is None


def test_the_unread_ones_newest_first_and_no_more_than_asked(
    floor_a: Floor, floor_b: Floor
) -> None:
    me = floor_a.agent_member
    made = [_notify(me, f"n{i}") for i in range(4)]
    # Newest first by creation time, not by id: the oldest id is made the newest.
    Notification.objects.filter(pk=made[0].pk).update(
        created_at=timezone.now() + timedelta(minutes=1)
    )
    notification_mark_read(notification=made[2])
    _notify(floor_a.supervisor, "a colleague's")
    _notify(floor_b.agent_member, "another organization's")

    def unread(limit: int) -> list[str]:
        found = notification_list_unread(
            user_id=me.user_id, organization_id=floor_a.org.pk, limit=limit
        )
        return [n.title for n in found]

    assert unread(10) == ["n0", "n3", "n1"]
    assert unread(2) == ["n0", "n3"]
