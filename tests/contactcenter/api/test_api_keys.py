"""API keys over REST: made once, hashed, scoped, expiring, revoked, rotated, and
refused wherever a person (or a socket) is meant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from config.asgi import application
from contactcenter.models import ActorKind, APIKey, AuditEntry
from crm.models import Contact
from crm.services import contact_create
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db


def make_key(floor: Floor, **body: Any) -> dict[str, Any]:
    response = client_for(floor.admin).post(
        "/api/v1/api-keys/", {"name": "CRM sync", **body}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    return dict(response.json())


def key_client(key: str, address: str = "192.0.2.10") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_the_key_is_shown_once_and_stored_as_its_hash(floor_a: Floor) -> None:
    made = make_key(floor_a)
    prefix, secret = made["key"].split(".")
    assert prefix == made["prefix"] and prefix.startswith("cck_")
    listed = client_for(floor_a.admin).get("/api/v1/api-keys/").json()["results"]
    assert [k["prefix"] for k in listed] == [prefix] and "key" not in listed[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM contactcenter_apikey")
        row = cursor.fetchone()
    assert secret not in " ".join(map(str, row))
    assert made["role"] == "supervisor" and made["write_resources"] == []


def test_a_read_only_key_reads_its_organization_and_writes_nothing(
    floor_a: Floor, floor_b: Floor
) -> None:
    mine = contact_create(organization=floor_a.org, first_name="Ada")
    theirs = contact_create(organization=floor_b.org, first_name="Bob")
    client = key_client(make_key(floor_a)["key"])
    listed = client.get("/api/v1/contacts/").json()["results"]
    assert [c["id"] for c in listed] == [mine.pk]
    assert client.get(f"/api/v1/contacts/{theirs.pk}/").status_code == 404
    refused = client.post("/api/v1/contacts/", {"first_name": "Eve"}, format="json")
    assert refused.status_code == 403
    assert "may not write to contacts" in refused.content.decode()
    assert not Contact.objects.filter(first_name="Eve").exists()


def test_a_key_writes_the_resources_it_lists_and_the_audit_names_it(floor_a: Floor) -> None:
    made = make_key(floor_a, write_resources=["contacts"])
    client = key_client(made["key"])
    created = client.post("/api/v1/contacts/", {"first_name": "Eve"}, format="json")
    assert created.status_code == 201, created.content
    assert client.post("/api/v1/cases/", {"title": "x"}, format="json").status_code == 403
    entry = AuditEntry.objects.get(object_type="crm.contact", action="create")
    assert (entry.actor_kind, entry.actor_api_key_id) == (ActorKind.API_KEY, made["id"])
    assert entry.organization_id == floor_a.org.pk and entry.client_address == "192.0.2.10"
    assert entry.request_id == created["X-Request-ID"]


def test_unknown_resources_and_agent_roles_are_refused(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    bad = admin.post("/api/v1/api-keys/", {"name": "x", "write_resources": ["nope"]}, format="json")
    assert bad.status_code == 400 and "nope" in bad.content.decode()
    agent = admin.post("/api/v1/api-keys/", {"name": "x", "role": "agent"}, format="json")
    assert agent.status_code == 400
    refused = client_for(floor_a.supervisor).post("/api/v1/api-keys/", {"name": "x"})
    assert refused.status_code == 403


def test_an_expired_key_is_refused(floor_a: Floor) -> None:
    made = make_key(floor_a, expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    client = key_client(made["key"])
    assert client.get("/api/v1/contacts/").status_code == 200
    APIKey.objects.filter(pk=made["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "api_key_invalid"


def test_revoke_and_rotate(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    made = make_key(floor_a)
    rotated = admin.post(f"/api/v1/api-keys/{made['id']}/rotate/")
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    new_key = rotated.json()["key"]
    assert key_client(made["key"]).get("/api/v1/contacts/").status_code == 401
    assert key_client(new_key).get("/api/v1/contacts/").status_code == 200
    assert admin.post(f"/api/v1/api-keys/{made['id']}/revoke/").status_code == 200
    assert key_client(new_key).get("/api/v1/contacts/").status_code == 401
    assert admin.post(f"/api/v1/api-keys/{made['id']}/rotate/").status_code == 409
    actions = list(
        AuditEntry.objects.filter(object_type="contactcenter.apikey")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "rotate", "api_key.use", "revoke"]


def test_another_organization_cannot_touch_a_key(floor_a: Floor, floor_b: Floor) -> None:
    made = make_key(floor_a)
    other = client_for(floor_b.admin)
    assert other.get(f"/api/v1/api-keys/{made['id']}/").status_code == 404
    assert other.post(f"/api/v1/api-keys/{made['id']}/revoke/").status_code == 404
    assert key_client(made["key"]).get("/api/v1/members/").json()["results"]
    members = key_client(made["key"]).get("/api/v1/members/").json()["results"]
    assert {m["id"] for m in members} <= set(floor_a.org.memberships.values_list("pk", flat=True))


def test_use_is_written_at_most_once_a_minute_and_per_new_address(floor_a: Floor) -> None:
    made = make_key(floor_a)
    for _ in range(3):
        assert key_client(made["key"]).get("/api/v1/contacts/").status_code == 200
    key = APIKey.objects.get(pk=made["id"])
    first = key.last_used_at
    assert first is not None and key.last_used_address == "192.0.2.10"
    assert key_client(made["key"], "192.0.2.11").get("/api/v1/contacts/").status_code == 200
    uses = AuditEntry.objects.filter(action="api_key.use", object_id=str(made["id"]))
    assert [e.details["address"] for e in uses.order_by("id")] == ["192.0.2.10", "192.0.2.11"]
    # Back to a time past the minute: written again (no audit entry: same address).
    APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    assert key_client(made["key"], "192.0.2.11").get("/api/v1/contacts/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at > first
    assert uses.count() == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/realtime/ticket/",
        "/api/v1/me/",
        "/api/v1/api-keys/",
        "/api/v1/notifications/",
        "/api/v1/invitations/",
    ],
)
def test_keys_are_refused_where_a_person_is_meant(floor_a: Floor, path: str) -> None:
    made = make_key(floor_a, role="admin", write_resources=["contacts"])
    client = key_client(made["key"])
    response = client.post(path) if "ticket" in path else client.get(path)
    assert response.status_code in (401, 403), (path, response.status_code)


def test_malformed_and_unknown_keys_are_401(floor_a: Floor) -> None:
    make_key(floor_a)
    for value in ("Api-Key", "Api-Key a b", "Api-Key cck_0000.nope", "Api-Key \u00e9"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=value)
        assert client.get("/api/v1/contacts/").status_code == 401, value


def test_keys_are_not_accepted_by_the_admin_or_the_pages(floor_a: Floor) -> None:
    made = make_key(floor_a, role="admin")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {made['key']}")
    for path in ("/admin/", "/console/", "/wallboard/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"], path


@pytest.mark.django_db(transaction=True)
async def test_keys_do_not_open_websockets(floor_a: Floor) -> None:
    from asgiref.sync import sync_to_async

    made = await sync_to_async(make_key)(floor_a, role="admin")
    for path in ("/ws/agent/", "/ws/wallboard/"):
        communicator = WebsocketCommunicator(
            application,
            path,
            headers=[
                (b"host", b"testserver"),
                (b"origin", b"http://testserver"),
                (b"authorization", f"Api-Key {made['key']}".encode()),
            ],
        )
        connected, _ = await communicator.connect(timeout=5)
        if connected:
            out = await communicator.receive_output(5)
            assert out["type"] == "websocket.close", out
        await communicator.disconnect()


def _readable_paths() -> list[str]:
    """Every GET of the REST API without a path parameter, from its OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/") and "{" not in path and "get" in operations
    )


def test_an_admin_key_reads_every_endpoint_an_admin_reads_except_a_persons(
    floor_a: Floor, floor_b: Floor
) -> None:
    from contactcenter.api.apikeys_auth import KEY_REFUSED, resource_of

    contact_create(organization=floor_a.org, first_name="Ada")
    marker = "zq-other-organization-zq"
    contact_create(organization=floor_b.org, first_name=marker, company=marker)
    admin = client_for(floor_a.admin)
    key = key_client(make_key(floor_a, role="admin")["key"])
    paths = _readable_paths()
    assert "/api/v1/contacts/" in paths and "/api/v1/audit-log/" in paths
    answered: dict[str, tuple[int, int]] = {}
    for path in paths:
        answer = key.get(path)
        person, machine = admin.get(path).status_code, answer.status_code
        answered[path] = (person, machine)
        content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        assert marker.encode() not in content, path  # never a byte of another organization
        if resource_of(path) in KEY_REFUSED:
            assert machine in (401, 403), (path, machine)
        else:
            assert machine == person and machine < 500, (path, person, machine)
    assert sum(1 for person, machine in answered.values() if machine == 200) > 10, answered


def test_a_key_can_never_be_given_people_or_settings_to_write(floor_a: Floor) -> None:
    # Members are accounts with passwords and roles: a key that could make one could
    # leave its holder a person's sign-in (and so new keys) that outlives its revocation.
    admin = client_for(floor_a.admin)
    refused = admin.post(
        "/api/v1/api-keys/",
        {"name": "x", "role": "admin", "write_resources": ["members"]},
        format="json",
    )
    assert refused.status_code == 400 and "members" in refused.content.decode()
    settings = {"name": "x", "role": "admin", "write_resources": ["organization"]}
    assert admin.post("/api/v1/api-keys/", settings, format="json").status_code == 400
    # A key stored with it anyway (before this rule) still cannot.
    made = make_key(floor_a, role="admin", write_resources=["contacts"])
    APIKey.objects.filter(pk=made["id"]).update(write_resources=["contacts", "members"])
    client = key_client(made["key"])
    body = {"username": "mole", "password": "a-Long-pass-phrase-9", "role": "admin"}
    created = client.post("/api/v1/members/", body, format="json")
    assert created.status_code == 403, created.content
    member = floor_a.agent_member
    promoted = client.patch(f"/api/v1/members/{member.pk}/", {"role": "admin"}, format="json")
    assert promoted.status_code == 403
    member.refresh_from_db()
    assert member.role == "agent"
    # Nor the organization's settings (its audit retention among them).
    APIKey.objects.filter(pk=made["id"]).update(write_resources=["organization"])
    shortened = client.patch("/api/v1/organization/", {"audit_retention_days": 1}, format="json")
    assert shortened.status_code == 403
    assert client.get("/api/v1/members/").status_code == 200  # reading stays
    assert client.get("/api/v1/organization/").status_code == 200
