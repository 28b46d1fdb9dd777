from __future__ import annotations

from typing import Any

import pytest

from crm.enums import NotificationKind
from crm.models import Notification
from crm.services import notification_create
from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, result_ids

URL = "/api/v1/notifications/"


def _notify(floor: Floor, membership: Any, title: str = "Hi") -> Notification:
    return notification_create(
        organization_id=floor.org.pk,
        user_id=membership.user_id,
        kind=NotificationKind.SYSTEM,
        title=title,
    )


@pytest.mark.parametrize("role", ["agent_member", "supervisor", "admin"])
def test_each_member_sees_only_their_own(floor_a: Floor, role: str) -> None:
    me = getattr(floor_a, role)
    others = [m for m in (floor_a.admin, floor_a.supervisor, floor_a.agent_member) if m != me]
    mine = _notify(floor_a, me)
    foreign = [_notify(floor_a, other) for other in others]
    client = client_for(me)
    assert result_ids(client.get(URL)) == {mine.pk}
    for notification in foreign:
        url = f"{URL}{notification.pk}/"
        assert client.get(url).status_code == 404
        assert client.post(f"{url}read/").status_code == 404
        assert client.delete(url).status_code == 404
    assert client.post(f"{URL}read-all/").json() == {"updated": 1}
    assert Notification.objects.filter(read_at__isnull=True).count() == len(foreign)


def test_read_unread_filter_and_delete(floor_a: Floor) -> None:
    first, second = _notify(floor_a, floor_a.agent_member), _notify(floor_a, floor_a.agent_member)
    client = client_for(floor_a.agent_member)
    read = client.post(f"{URL}{first.pk}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert result_ids(client.get(URL, {"unread": "true"})) == {second.pk}
    assert result_ids(client.get(URL, {"unread": "false"})) == {first.pk}
    assert client.delete(f"{URL}{first.pk}/").status_code == 204
    assert result_ids(client.get(URL)) == {second.pk}


def test_no_create_or_update(floor_a: Floor) -> None:
    notification = _notify(floor_a, floor_a.admin)
    client = client_for(floor_a.admin)
    assert client.post(URL, {"title": "x", "kind": "system"}).status_code == 405
    assert client.patch(f"{URL}{notification.pk}/", {"title": "x"}).status_code == 405


def test_bad_filter_is_a_400(floor_a: Floor) -> None:
    response = client_for(floor_a.admin).get(URL, {"kind": "nope"})
    assert response.status_code == 400
    assert error_attrs(response) == ["kind"]
