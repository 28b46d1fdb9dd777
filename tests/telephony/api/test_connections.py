from typing import Any

import pytest

from telephony.models import AsteriskConnection, TwilioAccount
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

AMI = {"name": "pbx1", "host": "10.0.0.5", "port": 5038, "username": "bridge", "secret": "s3cr3t"}
TWILIO = {"account_sid": "AC" + "0" * 32, "auth_token": "tok-123"}


@pytest.fixture(autouse=True)
def operator_allows_the_pbx_lan(settings: Any) -> None:
    # A private address is refused unless the operator allows it (test_connection_targets.py).
    settings.AMI_ALLOWED_TARGETS = ["10.0.0.0/24"]


def test_admin_only(floor_a: Floor) -> None:
    for member in (floor_a.agent_member, floor_a.supervisor):
        client = client_for(member)
        assert client.get("/api/v1/asterisk-connections/").status_code == 403
        assert client.post("/api/v1/asterisk-connections/", AMI).status_code == 403
        assert client.get("/api/v1/twilio-accounts/").status_code == 403


def test_secrets_are_write_only(floor_a: Floor, twilio_api: Any) -> None:
    twilio_api.add(TWILIO["account_sid"], TWILIO["auth_token"])
    client = client_for(floor_a.admin)
    created = client.post("/api/v1/asterisk-connections/", AMI)
    assert created.status_code == 201, created.content
    assert "secret" not in created.json()
    assert created.json()["has_secret"] is True
    listed = client.get("/api/v1/asterisk-connections/").content
    assert b"s3cr3t" not in listed
    pk = created.json()["id"]
    assert b"s3cr3t" not in client.get(f"/api/v1/asterisk-connections/{pk}/").content
    # Changing other fields keeps the secret; it can be replaced but never read.
    assert client.patch(f"/api/v1/asterisk-connections/{pk}/", {"port": 5039}).status_code == 200
    assert AsteriskConnection.objects.get(pk=pk).secret == "s3cr3t"
    client.patch(f"/api/v1/asterisk-connections/{pk}/", {"secret": "n3w"})
    assert AsteriskConnection.objects.get(pk=pk).secret == "n3w"

    twilio = client.post("/api/v1/twilio-accounts/", TWILIO)
    assert twilio.status_code == 201, twilio.content
    assert "auth_token" not in twilio.json()
    assert b"tok-123" not in client.get("/api/v1/twilio-accounts/").content
    assert TwilioAccount.objects.get().auth_token == "tok-123"


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/asterisk-connections/", {**AMI, "port": 70000}, "port"),
        ("/api/v1/asterisk-connections/", {**AMI, "port": "abc"}, "port"),
        (
            "/api/v1/asterisk-connections/",
            {k: v for k, v in AMI.items() if k != "secret"},
            "secret",
        ),
        ("/api/v1/twilio-accounts/", {**TWILIO, "account_sid": "XX123"}, "account_sid"),
    ],
)
def test_invalid_connection_payloads(floor_a: Floor, url: str, payload: dict, field: str) -> None:
    resp = client_for(floor_a.admin).post(url, payload)
    assert resp.status_code == 400
    assert field in {e["attr"] for e in resp.json()["errors"]}


def test_one_twilio_account_per_organization(floor_a: Floor, twilio_api: Any) -> None:
    twilio_api.add(TWILIO["account_sid"], TWILIO["auth_token"])
    twilio_api.add("AC" + "1" * 32, TWILIO["auth_token"])
    client = client_for(floor_a.admin)
    assert client.post("/api/v1/twilio-accounts/", TWILIO).status_code == 201
    second = client.post("/api/v1/twilio-accounts/", {**TWILIO, "account_sid": "AC" + "1" * 32})
    assert second.status_code == 400


def test_admins_choose_whether_twilio_keeps_recordings_after_our_copy(
    floor_a: Floor, twilio_api: Any
) -> None:
    twilio_api.add(TWILIO["account_sid"], TWILIO["auth_token"])
    client = client_for(floor_a.admin)
    created = client.post("/api/v1/twilio-accounts/", TWILIO)
    assert created.json()["recordings_delete_after_copy"] is False
    pk = created.json()["id"]
    changed = client.patch(
        f"/api/v1/twilio-accounts/{pk}/",
        {"recordings_delete_after_copy": True},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert TwilioAccount.objects.get(pk=pk).recordings_delete_after_copy is True
    refused = client_for(floor_a.supervisor).patch(
        f"/api/v1/twilio-accounts/{pk}/",
        {"recordings_delete_after_copy": False},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert TwilioAccount.objects.get(pk=pk).recordings_delete_after_copy is True
