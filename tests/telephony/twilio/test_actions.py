"""REST actions through a recording HTTP client: what goes to Twilio, what comes back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest

from telephony.models import TwilioAccount
from telephony.twilio import actions
from tests.telephony.twilio.fakehttp import RecordingHttpClient, call_json, error_json
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, call_sid

pytestmark = pytest.mark.django_db

API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Calls"
BASE_URL = "https://cc.example.com/"
CALL = call_sid(1)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def parameters(client: ElementTree.Element) -> dict[str, str]:
    """The ``<Parameter>``s of a ``<Client>``: the SDK's ``call.customParameters``."""
    return {p.get("name", ""): p.get("value", "") for p in client.findall("Parameter")}


def test_hangup(account: TwilioAccount) -> None:
    http = RecordingHttpClient(call_json(CALL, "completed"))
    result = actions.hangup(account, CALL, http_client=http)
    assert result == actions.ActionResult(ok=True, call_sid=CALL)
    [sent] = http.sent
    assert (sent.method, sent.uri) == ("POST", f"{API}/{CALL}.json")
    assert sent.data == {"Status": "completed"}
    assert sent.auth == (ACCOUNT_SID, AUTH_TOKEN)


def test_connect_agent_rings_the_client_and_reports_back(account: TwilioAccount) -> None:
    http = RecordingHttpClient(call_json(CALL, "in-progress"))
    result = actions.connect_agent(
        account, CALL, agent="1001", queue="support", base_url=BASE_URL, http_client=http
    )
    assert result.ok
    [sent] = http.sent
    assert (sent.method, sent.uri) == ("POST", f"{API}/{CALL}.json")
    dial = ElementTree.fromstring(sent.data["Twiml"]).find("Dial")
    assert dial is not None
    assert dial.get("action", "").startswith("https://cc.example.com/telephony/twilio/dial-result/")
    assert query(dial.get("action", "")) == {"agent": ["client:1001"], "queue": ["support"]}
    client = dial.find("Client")
    assert client is not None and not (client.text or "").strip()
    assert client.findtext("Identity") == "1001"
    assert parameters(client) == {"cc_call_sid": CALL}
    assert query(client.get("statusCallback", "")) == {
        "agent": ["client:1001"],
        "queue": ["support"],
    }
    assert client.get("statusCallbackEvent") == "initiated ringing answered completed"


def test_transfer_to_an_agent_tells_their_console_the_call(account: TwilioAccount) -> None:
    http = RecordingHttpClient(call_json(CALL, "in-progress"))
    result = actions.transfer(
        account, CALL, to_agent="agent-7", from_agent="agent-3", base_url=BASE_URL, http_client=http
    )
    assert result.ok
    dial = ElementTree.fromstring(http.sent[0].data["Twiml"]).find("Dial")
    assert dial is not None
    client = dial.find("Client")
    assert client is not None and client.findtext("Identity") == "agent-7"
    assert parameters(client) == {"cc_call_sid": CALL}
    assert query(client.get("statusCallback", "")) == {
        "agent": ["client:agent-7"],
        "transfer": [result.transfer_key],
        "from": ["client:agent-3"],
    }


def test_transfer_to_a_number(account: TwilioAccount) -> None:
    http = RecordingHttpClient(call_json(CALL, "in-progress"))
    result = actions.transfer(
        account,
        CALL,
        to_number="+15559990000",
        from_agent="1001",
        base_url=BASE_URL,
        http_client=http,
    )
    assert result.ok and result.transfer_key.startswith("twilio-transfer:")
    dial = ElementTree.fromstring(http.sent[0].data["Twiml"]).find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None and number.text == "+15559990000"
    assert number.findall("Parameter") == []  # <Parameter> is for clients only
    assert query(number.get("statusCallback", "")) == {
        "transfer": [result.transfer_key],
        "from": ["client:1001"],
    }


def test_transfer_needs_one_target(account: TwilioAccount) -> None:
    http = RecordingHttpClient()
    both = actions.transfer(
        account, CALL, to_agent="1002", to_number="+1555", base_url=BASE_URL, http_client=http
    )
    neither = actions.transfer(account, CALL, base_url=BASE_URL, http_client=http)
    assert not both.ok and not neither.ok
    assert http.sent == []


def test_originate(account: TwilioAccount) -> None:
    new = call_sid(9)
    http = RecordingHttpClient(call_json(new, "queued", http_status=201))
    result = actions.originate(
        account,
        to="+15557654321",
        from_number="+15551230000",
        agent="1001",
        base_url=BASE_URL,
        http_client=http,
    )
    assert result == actions.ActionResult(ok=True, call_sid=new)
    [sent] = http.sent
    assert (sent.method, sent.uri) == ("POST", f"{API}.json")
    assert (sent.data["To"], sent.data["From"]) == ("+15557654321", "+15551230000")
    assert sent.data["StatusCallback"] == (
        "https://cc.example.com/telephony/twilio/status/?agent=client%3A1001"
    )
    assert sent.data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert sent.data["StatusCallbackMethod"] == "POST"
    dial = ElementTree.fromstring(sent.data["Twiml"]).find("Dial")
    assert dial is not None
    client = dial.find("Client")
    assert client is not None and client.findtext("Identity") == "1001"
    # No call sid yet (Twilio answers it to this very request): who and which way.
    assert parameters(client) == {"cc_customer": "+15557654321", "cc_direction": "outbound"}


def test_twilio_refusal_is_a_result_not_an_exception(account: TwilioAccount) -> None:
    http = RecordingHttpClient(error_json(404, 20404, "The requested resource was not found"))
    result = actions.hangup(account, CALL, http_client=http)
    assert (result.ok, result.code) == (False, 20404)
    assert result.message.endswith("The requested resource was not found")
    http = RecordingHttpClient(error_json(400, 21211, "Invalid 'To' Phone Number"))
    result = actions.originate(
        account, to="nope", from_number="+1555", agent="1001", base_url=BASE_URL, http_client=http
    )
    assert (result.ok, result.code, result.call_sid) == (False, 21211, "")


def test_unreachable_api_is_a_result_not_an_exception(account: TwilioAccount) -> None:
    http = RecordingHttpClient(ConnectionError("connection refused"))
    result = actions.transfer(account, CALL, to_agent="1002", base_url=BASE_URL, http_client=http)
    assert not result.ok and "connection refused" in result.message
    assert result.transfer_key == ""
