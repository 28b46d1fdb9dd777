"""The audit trail over REST: admins read their organization's, a page at a time,
filtered; nobody changes or deletes an entry."""

from __future__ import annotations

import pytest

from contactcenter.models import AuditEntry
from crm.services import contact_create
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-log/"


def test_admins_read_their_organization_only(floor_a: Floor, floor_b: Floor) -> None:
    response = client_for(floor_a.admin).get(URL, {"page_size": 500})
    assert response.status_code == 200
    organizations = set(
        AuditEntry.objects.filter(pk__in=[e["id"] for e in response.json()["results"]]).values_list(
            "organization_id", flat=True
        )
    )
    assert organizations == {floor_a.org.pk}
    for member in (floor_a.supervisor, floor_a.agent_member):
        assert client_for(member).get(URL).status_code == 403
    other = AuditEntry.objects.filter(organization=floor_b.org).first()
    assert other is not None
    assert client_for(floor_a.admin).get(f"{URL}{other.pk}/").status_code == 404


def test_a_write_over_rest_is_an_entry_with_who_where_and_the_request(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    created = admin.post(
        "/api/v1/contacts/", {"company": "Acme"}, format="json", REMOTE_ADDR="198.51.100.7"
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    admin.patch(f"/api/v1/contacts/{contact_id}/", {"company": "Acme Ltd"}, format="json")
    found = admin.get(URL, {"object_type": "crm.contact", "object_id": contact_id}).json()
    update, create = found["results"]
    assert (create["action"], update["action"]) == ("create", "update")
    assert update["changes"] == {"company": ["Acme", "Acme Ltd"]}
    assert create["actor_kind"] == "user"
    assert create["actor_user_id"] == floor_a.admin.user.pk
    assert create["client_address"] == "198.51.100.7"
    assert create["request_id"] == created["X-Request-ID"]


def test_filters_and_cursor_pages(floor_a: Floor) -> None:
    for n in range(5):
        contact_create(organization=floor_a.org, company=f"C{n}")
    admin = client_for(floor_a.admin)
    seen: list[int] = []
    page = admin.get(URL, {"action": "create", "object_type": "crm.contact", "page_size": 2})
    while True:
        body = page.json()
        assert "count" not in body  # a cursor page: no count of a table that only grows
        seen += [e["id"] for e in body["results"]]
        if not body["next"]:
            break
        page = admin.get(body["next"])
    assert len(seen) == 5 == len(set(seen)) and seen == sorted(seen, reverse=True)
    user_id = floor_a.admin.user.pk
    assert admin.get(URL, {"actor_user": user_id}).json()["results"] == []
    assert admin.get(URL, {"since": "2999-01-01T00:00:00Z"}).json()["results"] == []
    assert len(admin.get(URL, {"until": "2999-01-01T00:00:00Z"}).json()["results"]) > 5
    assert admin.get(URL, {"actor_kind": "nobody"}).status_code == 400


def test_entries_cannot_be_changed_or_deleted_over_rest(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    entry = AuditEntry.objects.filter(organization=floor_a.org).first()
    assert entry is not None
    for method in ("put", "patch", "delete"):
        response = getattr(admin, method)(f"{URL}{entry.pk}/", {"action": "x"}, format="json")
        assert response.status_code in (403, 405), method
    assert admin.post(URL, {"action": "x"}, format="json").status_code in (403, 405)
    entry.refresh_from_db()
    assert entry.action != "x"


def test_exports_are_entries(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    response = admin.get("/api/v1/calls/export.csv", {"status": "completed"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.get(action="export")
    assert (entry.object_type, entry.organization_id) == ("contactcenter.call", floor_a.org.pk)
    assert entry.details == {"query": {"status": ["completed"]}}


def test_admins_set_their_organizations_retention(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    assert admin.get("/api/v1/organization/").json()["audit_retention_days"] is None
    kept = admin.patch("/api/v1/organization/", {"audit_retention_days": 30}, format="json")
    assert kept.status_code == 200 and kept.json()["audit_retention_days"] == 30
    assert AuditEntry.objects.filter(
        object_type="contactcenter.organization", action="update"
    ).get().changes == {"audit_retention_days": [None, 30]}
    for bad in (0, -1, "x"):
        response = admin.patch(
            "/api/v1/organization/", {"audit_retention_days": bad}, format="json"
        )
        assert response.status_code == 400, bad
    back = admin.patch("/api/v1/organization/", {"audit_retention_days": None}, format="json")
    assert back.json()["audit_retention_days"] is None
    supervisor = client_for(floor_a.supervisor)
    refused = supervisor.patch("/api/v1/organization/", {"audit_retention_days": 1}, format="json")
    assert refused.status_code == 403


def test_sign_ins_through_each_door_are_entries_with_the_address(floor_a: Floor) -> None:
    from django.test import Client
    from rest_framework.test import APIClient

    from contactcenter.models import ActorKind
    from tests.factories import PASSWORD

    user = floor_a.agent_member.user
    token = "/api/v1/auth/token/"
    api = APIClient(REMOTE_ADDR="203.0.113.5")
    wrong = {"username": user.username, "password": "not-it"}
    assert api.post(token, wrong, format="json").status_code == 401
    right = {"username": user.username, "password": PASSWORD}
    assert api.post(token, right, format="json").status_code == 200
    page = Client(REMOTE_ADDR="203.0.113.6")
    assert (
        page.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    )
    entries = AuditEntry.objects.filter(
        organization=floor_a.org, action__in=["signin", "signin_failed"]
    ).order_by("id")
    seen = [(e.action, e.client_address, e.details["path"]) for e in entries]
    assert seen == [
        ("signin_failed", "203.0.113.5", token),
        ("signin", "203.0.113.5", token),
        ("signin", "203.0.113.6", "/login/"),
    ]
    assert all(e.object_id == str(user.pk) and e.request_id for e in entries)
    succeeded = entries.filter(action="signin")
    assert {(e.actor_kind, e.actor_user_id) for e in succeeded} == {(ActorKind.USER, user.pk)}
    assert "not-it" not in str(list(entries.values()))


def test_the_actor_filters_find_each_actors_entries(floor_a: Floor) -> None:
    from rest_framework.test import APIClient

    admin = client_for(floor_a.admin)
    made = admin.post(
        "/api/v1/api-keys/", {"name": "sync", "write_resources": ["contacts"]}, format="json"
    ).json()
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Api-Key {made['key']}")
    assert admin.post("/api/v1/contacts/", {"company": "By a person"}).status_code == 201
    assert key.post("/api/v1/contacts/", {"company": "By a key"}).status_code == 201
    by_person = admin.get(URL, {"actor_user": floor_a.admin.user.pk, "object_type": "crm.contact"})
    by_key = admin.get(URL, {"actor_api_key": made["id"], "object_type": "crm.contact"})
    assert [e["changes"]["company"] for e in by_person.json()["results"]] == ["By a person"]
    assert [e["changes"]["company"] for e in by_key.json()["results"]] == ["By a key"]
    by_kind = admin.get(URL, {"actor_kind": "api_key", "action": "create"}).json()["results"]
    assert {e["actor_api_key_id"] for e in by_kind} == {made["id"]}
