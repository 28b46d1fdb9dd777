"""/api/v1/notification-preferences/: each member's own, defaults on."""

from __future__ import annotations

from crm.enums import NotificationKind
from crm.models import NotificationPreference
from tests.conftest import Floor, client_for

URL = "/api/v1/notification-preferences/"


def test_defaults_are_on_for_every_kind(floor_a: Floor) -> None:
    response = client_for(floor_a.agent_member).get(URL)
    assert response.status_code == 200
    rows = response.json()
    assert [row["kind"] for row in rows] == NotificationKind.values
    assert all(row["in_app"] and row["email"] for row in rows)
    assert {row["kind"] for row in rows if row["email_available"]} == {
        "case.assigned",
        "case.overdue",
    }


def test_change_only_my_own(floor_a: Floor) -> None:
    mine = client_for(floor_a.agent_member)
    response = mine.patch(f"{URL}case.overdue/", {"email": False})
    assert response.status_code == 200, response.content
    assert response.json() | {"label": None} == {
        "kind": "case.overdue",
        "label": None,
        "in_app": True,
        "email": False,
        "email_available": True,
    }
    response = mine.patch(f"{URL}case.overdue/", {"in_app": False})
    assert (response.json()["in_app"], response.json()["email"]) == (False, False)
    stored = NotificationPreference.objects.get()
    assert (stored.user_id, stored.organization_id) == (
        floor_a.agent_member.user_id,
        floor_a.org.pk,
    )
    # Someone else's list is untouched.
    theirs = client_for(floor_a.supervisor).get(URL).json()
    assert all(row["in_app"] and row["email"] for row in theirs)


def test_bad_input_is_a_clear_error(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    unknown = client.patch(f"{URL}nope/", {"email": False})
    assert unknown.status_code == 404
    wrong = client.patch(f"{URL}case.assigned/", {"email": "maybe"})
    assert wrong.status_code == 400
    assert [e["attr"] for e in wrong.json()["errors"]] == ["email"]
    assert client_for(floor_a.agent_member).put(f"{URL}case.assigned/", {}).status_code == 405
    assert not NotificationPreference.objects.exists()


def test_anonymous_is_refused(floor_a: Floor) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401
