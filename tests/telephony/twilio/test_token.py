"""The Twilio Voice token: only for an authenticated agent, as that agent, for minutes."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from rest_framework.test import APIClient

from telephony.models import TwilioAccount
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/telephony/twilio/token/"
ACCOUNT_SID = "AC" + "a" * 32
KEY_SID = "SK" + "b" * 32
KEY_SECRET = "k" * 32  # Twilio API key secrets are 32 characters
APP_SID = "AP" + "c" * 32


def softphone_account(floor: Floor, **overrides: Any) -> TwilioAccount:
    fields: dict[str, Any] = {
        "organization": floor.org,
        "account_sid": ACCOUNT_SID,
        "auth_token": "auth-token",
        "api_key_sid": KEY_SID,
        "api_key_secret": KEY_SECRET,
        "twiml_app_sid": APP_SID,
    }
    return TwilioAccount.objects.create(**(fields | overrides))


def decode(token: str) -> dict[str, Any]:
    """Verify the signature with the API key secret, as Twilio does."""
    return jwt.decode(token, KEY_SECRET, algorithms=["HS256"], options={"require": ["exp"]})


def test_agent_gets_a_short_lived_token_for_their_own_identity(
    floor_a: Floor, settings: Any
) -> None:
    settings.TWILIO_TOKEN_TTL_SECONDS = 300
    softphone_account(floor_a)
    before = int(time.time())
    resp = client_for(floor_a.agent_member).post(URL)
    after = int(time.time())

    assert resp.status_code == 200, resp.content
    assert resp["Cache-Control"] == "no-store"
    body = resp.json()
    identity = f"agent-{floor_a.agent.pk}"
    assert body["identity"] == identity
    claims = decode(body["token"])
    header = jwt.get_unverified_header(body["token"])
    assert header["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == KEY_SID
    assert claims["sub"] == ACCOUNT_SID
    assert claims["grants"]["identity"] == identity
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": APP_SID},
    }
    assert before + 300 <= claims["exp"] <= after + 300
    assert before <= claims["nbf"] <= after
    assert set(claims["grants"]) == {"identity", "voice"}  # no other capability


def test_each_agent_gets_their_own_identity(floor_a: Floor) -> None:
    softphone_account(floor_a)
    other_member = floor_a.other_agent.user
    assert other_member is not None
    mine = client_for(floor_a.agent_member).post(URL).json()
    theirs = client_for(other_member.membership).post(URL).json()  # type: ignore[attr-defined]
    assert mine["identity"] != theirs["identity"]
    assert decode(theirs["token"])["grants"]["identity"] == f"agent-{floor_a.other_agent.pk}"


def test_anonymous_is_refused(floor_a: Floor, api_client: APIClient) -> None:
    softphone_account(floor_a)
    resp = api_client.post(URL)
    assert resp.status_code == 401
    assert "token" not in resp.json()


def test_a_member_without_agent_profile_is_refused(floor_a: Floor) -> None:
    softphone_account(floor_a)
    for member in (floor_a.supervisor, floor_a.admin):
        resp = client_for(member).post(URL)
        assert resp.status_code == 403, resp.content
        assert "token" not in resp.json()


def test_an_inactive_agent_is_refused(floor_a: Floor) -> None:
    softphone_account(floor_a)
    floor_a.agent.is_active = False
    floor_a.agent.save()
    assert client_for(floor_a.agent_member).post(URL).status_code == 403


def test_another_organizations_account_is_never_used(floor_a: Floor, floor_b: Floor) -> None:
    softphone_account(floor_a)
    resp = client_for(floor_b.agent_member).post(URL)
    assert resp.status_code == 409
    assert resp.json()["errors"][0]["code"] == "twilio_not_configured"
    assert KEY_SID.encode() not in resp.content


@pytest.mark.parametrize(
    "overrides",
    [
        None,  # no account at all
        {"is_enabled": False},
        {"api_key_sid": ""},
        {"api_key_secret": ""},
        {"twiml_app_sid": ""},
    ],
)
def test_no_usable_twilio_account_is_refused(floor_a: Floor, overrides: Any) -> None:
    if overrides is not None:
        softphone_account(floor_a, **overrides)
    resp = client_for(floor_a.agent_member).post(URL)
    assert resp.status_code == 409
    assert resp.json()["errors"][0]["code"] == "twilio_not_configured"


def test_only_post(floor_a: Floor) -> None:
    softphone_account(floor_a)
    assert client_for(floor_a.agent_member).get(URL).status_code == 405


def test_api_key_secret_is_write_only(floor_a: Floor, twilio_api: Any) -> None:
    twilio_api.add(ACCOUNT_SID, "auth-token")
    client = client_for(floor_a.admin)
    created = client.post(
        "/api/v1/twilio-accounts/",
        {
            "account_sid": ACCOUNT_SID,
            "auth_token": "auth-token",
            "api_key_sid": KEY_SID,
            "api_key_secret": KEY_SECRET,
            "twiml_app_sid": APP_SID,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert "api_key_secret" not in body
    assert body["has_api_key_secret"] is True
    assert body["api_key_sid"] == KEY_SID
    assert KEY_SECRET.encode() not in client.get("/api/v1/twilio-accounts/").content
    assert TwilioAccount.objects.get().api_key_secret == KEY_SECRET


@pytest.mark.parametrize(
    ("field", "value"), [("api_key_sid", "AC" + "b" * 32), ("twiml_app_sid", "nope")]
)
def test_bad_sids_are_refused(floor_a: Floor, field: str, value: str) -> None:
    resp = client_for(floor_a.admin).post(
        "/api/v1/twilio-accounts/",
        {"account_sid": ACCOUNT_SID, "auth_token": "auth-token", field: value},
    )
    assert resp.status_code == 400
    assert field in {e["attr"] for e in resp.json()["errors"]}
