"""The Twilio desk's ``originate`` (telephony/twilio/desk.py): the call placed for a
callback an agent accepted, through the telephony port and Twilio's REST API (the fake,
over HTTP). Only a callback's call, only to the organization's own active agent, only
from the account's caller ID; the port names Twilio as the callbacks' connection."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync

from contactcenter.ports import PbxResult, telephony
from telephony.models import TwilioAccount
from telephony.twilio.desk import twilio_command
from tests.conftest import Floor
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]

KEY = f"twilio:{ACCOUNT_SID}"
CUSTOMER = "+15557650001"


@pytest.fixture
def public_url(settings: Any) -> str:
    settings.PUBLIC_URL = "https://cc.example.com"
    return str(settings.PUBLIC_URL)


def originate(organization_id: int, **params: str) -> PbxResult:
    result: PbxResult = async_to_sync(twilio_command)(
        organization_id, KEY, "originate", params, timeout=5.0
    )
    return result


def test_a_callbacks_call_rings_the_customer_then_the_agents_browser(
    floor_a: Floor, account: TwilioAccount, twilio_api: Any
) -> None:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    TwilioAccount.objects.filter(pk=account.pk).update(caller_id=OUR_NUMBER)
    port = telephony()
    assert port is not None and port.callback_connection(floor_a.org.pk) == KEY
    agent = floor_a.agent
    result = originate(floor_a.org.pk, number=CUSTOMER, agent_id=str(agent.pk), callback="7")
    assert result.ok, result
    [placed] = twilio_api.created
    assert result.data == {"call": placed.call_sid}
    assert (placed.fields["To"], placed.fields["From"]) == (CUSTOMER, OUR_NUMBER)
    hints = parse_qs(urlsplit(placed.fields["StatusCallback"]).query)
    assert hints == {"agent": [f"client:{agent.twilio_identity}"], "callback": ["7"]}


def test_anything_but_a_callbacks_call_for_an_own_active_agent_is_refused(
    floor_a: Floor, floor_b: Floor, account: TwilioAccount, twilio_api: Any
) -> None:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    org = floor_a.org.pk
    port = telephony()
    # No caller ID: Twilio places no callbacks; the command connection (none) does.
    assert port is not None and port.callback_connection(org) is None
    agent = str(floor_a.agent.pk)
    assert originate(org, number=CUSTOMER, agent_id=agent, callback="7").error == "no_pbx"
    TwilioAccount.objects.filter(pk=account.pk).update(caller_id=OUR_NUMBER)
    # A click-to-call (no callback): the softphone places those, not the server.
    assert originate(org, number=CUSTOMER, agent_id=agent).error == "unsupported"
    # Another organization's agent, or one made inactive: never rung.
    other = str(floor_b.agent.pk)
    assert originate(org, number=CUSTOMER, agent_id=other, callback="7").error == "bad_request"
    floor_a.agent.is_active = False
    floor_a.agent.save(update_fields=["is_active"])
    assert originate(org, number=CUSTOMER, agent_id=agent, callback="7").error == "bad_request"
    assert twilio_api.created == []
