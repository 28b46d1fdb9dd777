from __future__ import annotations

import pytest

from contactcenter.errors import ApplicationError
from crm.enums import NotificationKind
from crm.selectors import notification_list_for_user
from crm.services import notification_create, notification_mark_all_read, notification_mark_read
from tests.conftest import Floor


def _notify(floor: Floor, user_id: int, title: str = "Hi") -> object:
    return notification_create(
        organization_id=floor.org.pk, user_id=user_id, kind=NotificationKind.SYSTEM, title=title
    )


def test_only_members_of_the_organization(floor_a: Floor, floor_b: Floor) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        _notify(floor_a, floor_b.admin.user_id)
    assert excinfo.value.field == "user"


def test_mark_read_is_idempotent(floor_a: Floor) -> None:
    notification = _notify(floor_a, floor_a.admin.user_id)
    first = notification_mark_read(notification=notification).read_at  # type: ignore[arg-type]
    again = notification_mark_read(notification=notification).read_at  # type: ignore[arg-type]
    assert first is not None and first == again


def test_mark_all_read_touches_only_the_user(floor_a: Floor) -> None:
    for _ in range(3):
        _notify(floor_a, floor_a.admin.user_id)
    _notify(floor_a, floor_a.supervisor.user_id)
    updated = notification_mark_all_read(
        user_id=floor_a.admin.user_id, organization_id=floor_a.org.pk
    )
    assert updated == 3
    unread_of_supervisor = notification_list_for_user(
        user_id=floor_a.supervisor.user_id, organization_id=floor_a.org.pk
    ).filter(read_at__isnull=True)
    assert unread_of_supervisor.count() == 1
