"""A Twilio account is registered only with credentials Twilio accepts, checked against
a fake of Twilio's REST API over a real socket; another organization's SID answers
exactly as a wrong token, and the SID stays unique in the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from telephony.models import TwilioAccount
from tests.conftest import Floor, client_for
from tests.telephony.twilio.fakeapi import FakeTwilioAPI

pytestmark = pytest.mark.django_db

URL = "/api/v1/twilio-accounts/"
SID = "AC" + "5" * 32
TOKEN = "the-real-token"


def _register(floor: Floor, sid: str = SID, token: str = TOKEN) -> Any:
    return client_for(floor.admin).post(URL, {"account_sid": sid, "auth_token": token})


def _errors(response: Any) -> Any:
    return response.status_code, response.json()


def test_the_right_token_registers_the_account(floor_a: Floor, twilio_api: FakeTwilioAPI) -> None:
    twilio_api.add(SID, TOKEN)
    response = _register(floor_a)
    assert response.status_code == 201, response.content
    assert TwilioAccount.objects.get(organization=floor_a.org).account_sid == SID
    assert twilio_api.asked == [(f"/2010-04-01/Accounts/{SID}.json", SID)]


def test_a_wrong_token_is_refused_and_nothing_is_saved(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    twilio_api.add(SID, TOKEN)
    response = _register(floor_a, token="guess")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("twilio_credentials_refused", "auth_token")
    assert not TwilioAccount.objects.exists()


def test_another_organizations_sid_answers_as_a_wrong_token(
    floor_a: Floor, floor_b: Floor, twilio_api: FakeTwilioAPI
) -> None:
    twilio_api.add(SID, TOKEN)
    assert _register(floor_b).status_code == 201
    wrong_token = _register(floor_a, token="guess")
    # Even holding the right token, A learns nothing B did not tell it.
    taken = _register(floor_a)
    unused_sid_wrong_token = _register(floor_a, sid="AC" + "6" * 32, token="guess")
    assert _errors(taken) == _errors(wrong_token) == _errors(unused_sid_wrong_token)
    assert "exist" not in taken.content.decode()
    assert TwilioAccount.objects.get(account_sid=SID).organization_id == floor_b.org.pk


@pytest.mark.parametrize("token", ["\x80", "€uro", "tab\there", ""])
def test_a_token_no_twilio_account_has_is_refused_alike(
    floor_a: Floor, twilio_api: FakeTwilioAPI, token: str
) -> None:
    twilio_api.add(SID, TOKEN)
    response = _register(floor_a, token=token)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "auth_token"


def test_a_sid_cannot_be_squatted_before_its_owner(
    floor_a: Floor, floor_b: Floor, twilio_api: FakeTwilioAPI
) -> None:
    twilio_api.add(SID, TOKEN)
    assert _register(floor_a, token="squatter").status_code == 400
    assert _register(floor_b).status_code == 201


def test_a_new_token_or_sid_is_proved_again_other_changes_are_not(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    twilio_api.add(SID, TOKEN)
    pk = _register(floor_a).json()["id"]
    client = client_for(floor_a.admin)
    asked = len(twilio_api.asked)
    assert client.patch(f"{URL}{pk}/", {"is_enabled": False}).status_code == 200
    assert len(twilio_api.asked) == asked
    refused = client.patch(f"{URL}{pk}/", {"auth_token": "stolen"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "twilio_credentials_refused"
    other = "AC" + "7" * 32
    assert client.patch(f"{URL}{pk}/", {"account_sid": other}).status_code == 400
    account = TwilioAccount.objects.get(pk=pk)
    assert (account.account_sid, account.auth_token) == (SID, TOKEN)
    twilio_api.add(SID, "rotated")
    assert client.patch(f"{URL}{pk}/", {"auth_token": "rotated"}).status_code == 200
    assert TwilioAccount.objects.get(pk=pk).auth_token == "rotated"


def test_twilio_unreachable_is_a_503_and_nothing_is_saved(floor_a: Floor) -> None:
    # The autouse setting points at a port nothing listens on. A 5xx is reported as a
    # server error is (logged): the test client would raise it.
    client = client_for(floor_a.admin)
    client.raise_request_exception = False
    response = client.post(URL, {"account_sid": SID, "auth_token": TOKEN})
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "twilio_unreachable"
    assert not TwilioAccount.objects.exists()


def test_the_database_keeps_a_sid_to_one_organization(floor_a: Floor, floor_b: Floor) -> None:
    TwilioAccount.objects.create(organization=floor_a.org, account_sid=SID, auth_token="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        TwilioAccount.objects.create(organization=floor_b.org, account_sid=SID, auth_token="b")
