"""Calls an agent places from the browser softphone: the TwiML app's Voice URL (client/).

Twilio's requests for one such call, in the order it sends them: the Voice URL
(``From=client:agent-<pk>``, the number in ``To``), the customer leg's status callbacks
(``status/?by=...``), the Dial action (``dial-result/?by=...``) and the TwiML app's own
status callback of the browser call (``status/``).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.test import Client

from contactcenter.models import Agent, Call, CallEvent
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, parse_hints, webhook_path
from tests.conftest import Floor, client_for
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    at,
    call_sid,
    deliver,
    make_account,
    stamp,
)

pytestmark = pytest.mark.django_db

BROWSER = call_sid(21)  # the browser's call: the Call record's external_id
CUSTOMER_LEG = call_sid(22)
CALLER_ID = OUR_NUMBER


@pytest.fixture
def account(floor_a: Floor) -> TwilioAccount:
    return make_account(floor_a.org.pk, caller_id=CALLER_ID)


def identity(agent: Agent) -> str:
    return f"client:agent-{agent.pk}"


def _fields(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        **extra,
    }


def placed(agent: str, to: str = CALLER, sid: str = BROWSER) -> TwilioRequest:
    """The TwiML app's Voice URL. Twilio sends no Timestamp with it (its time is "now");
    here it pins the clock, so the records compare exactly."""
    fields = _fields(
        sid, "ringing", Direction="inbound", From=agent, Caller=agent, To=to, Timestamp=stamp(0)
    )
    return TwilioRequest(webhook_path("client"), fields)


def customer_leg(agent: str, status: str, seq: int, seconds: float, **extra: str) -> TwilioRequest:
    fields = _fields(
        CUSTOMER_LEG,
        status,
        ParentCallSid=BROWSER,
        Direction="outbound-dial",
        From=CALLER_ID,
        To=CALLER,
        SequenceNumber=str(seq),
        Timestamp=stamp(seconds),
        CallbackSource="call-progress-events",
        **extra,
    )
    return TwilioRequest(webhook_path("status", Hints(by=agent)), fields)


def dial_result(agent: str, parent: str, dial: str, duration: int, seconds: float) -> TwilioRequest:
    fields = _fields(
        BROWSER,
        parent,
        Direction="inbound",
        From=agent,
        To=CALLER,
        DialCallStatus=dial,
        DialCallSid=CUSTOMER_LEG,
        DialCallDuration=str(duration),
        Timestamp=stamp(seconds),  # pinned, as above
    )
    return TwilioRequest(webhook_path("dial-result", Hints(by=agent)), fields)


def browser_completed(agent: str, seconds: float, sid: str = BROWSER) -> TwilioRequest:
    """The TwiML app's Status Callback: the browser's call is over."""
    fields = _fields(
        sid,
        "completed",
        Direction="inbound",
        From=agent,
        To=CALLER,
        CallDuration=str(int(seconds)),
        SequenceNumber="0",
        Timestamp=stamp(seconds),
    )
    return TwilioRequest(webhook_path("status"), fields)


def answered_call(agent: str, *, customer_hangs_up: bool = True) -> list[TwilioRequest]:
    """The customer rings 7 s, answers, talks 60 s; then one of the two hangs up."""
    return [
        placed(agent),
        customer_leg(agent, "initiated", 0, 1),
        customer_leg(agent, "ringing", 1, 2),
        customer_leg(agent, "in-progress", 2, 9),
        customer_leg(agent, "completed", 3, 69, CallDuration="60"),
        dial_result(
            agent, "in-progress" if customer_hangs_up else "completed", "completed", 60, 69
        ),
        browser_completed(agent, 69),
    ]


def send(*requests: TwilioRequest) -> list[bytes]:
    client = Client()
    bodies = []
    for request in requests:
        response = deliver(client, request)
        assert response.status_code in (200, 204), (str(request), response.content)
        bodies.append(response.content)
    return bodies


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def assert_refused(body: bytes, says: str) -> None:
    response = ElementTree.fromstring(body)
    assert [child.tag for child in response] == ["Say", "Hangup"]
    assert says in (response.findtext("Say") or "")


# --- a call placed from the browser -------------------------------------------------


def test_answers_a_dial_of_the_customer_from_the_caller_id(
    account: TwilioAccount, floor_a: Floor
) -> None:
    agent = identity(floor_a.agent)
    [body] = send(placed(agent))
    dial = ElementTree.fromstring(body).find("Dial")
    assert dial is not None
    assert dial.get("callerId") == CALLER_ID
    assert urlsplit(dial.get("action", "")).path == "/telephony/twilio/dial-result/"
    assert query(dial.get("action", "")) == {"by": [agent]}
    number = dial.find("Number")
    assert number is not None and number.text == CALLER
    assert urlsplit(number.get("statusCallback", "")).path == "/telephony/twilio/status/"
    assert query(number.get("statusCallback", "")) == {"by": [agent]}
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"
    # Fully qualified, on the host Twilio called (Twilio asks that of status callbacks).
    for url in (dial.get("action", ""), number.get("statusCallback", "")):
        assert url.startswith("http://testserver/telephony/twilio/"), url
    call = Call.objects.get()
    assert (call.external_id, call.source, call.direction, call.status) == (
        BROWSER,
        "twilio",
        "outbound",
        "ringing",
    )
    assert (call.agent, call.caller_number, call.callee_number) == (
        floor_a.agent,
        CALLER_ID,
        CALLER,
    )
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0), None, None)


def test_a_number_in_national_format_is_dialled_in_e164(
    account: TwilioAccount, floor_a: Floor
) -> None:
    [body] = send(placed(identity(floor_a.agent), to="(555) 765-4321"))
    assert ElementTree.fromstring(body).findtext("Dial/Number") == CALLER
    assert Call.objects.get().callee_number == CALLER


def test_the_customer_answers_talks_and_hangs_up(account: TwilioAccount, floor_a: Floor) -> None:
    agent = identity(floor_a.agent)
    requests = answered_call(agent)
    send(*requests[:4])  # up to the customer's answer
    call = Call.objects.get()
    assert (call.status, call.answered_at, call.agent) == ("in_progress", at(9), floor_a.agent)

    bodies = send(*requests[4:])
    assert bodies[1] == b'<?xml version="1.0" encoding="UTF-8"?><Response />'  # the Dial action
    call = Call.objects.get()
    assert (call.direction, call.status, call.agent) == ("outbound", "completed", floor_a.agent)
    assert (call.answered_at, call.ended_at, call.end_outcome) == (at(9), at(69), "")
    assert (call.talk_seconds, call.hangup_by) == (60, "caller")
    events = {e.type: e for e in CallEvent.objects.filter(call=call)}
    assert sorted(events) == ["agent.completed", "call.answered", "call.created", "call.ended"]
    assert all(events[t].agent == floor_a.agent for t in ("call.created", "call.answered"))
    completed = events["agent.completed"]
    assert (completed.agent, completed.details["talk_seconds"]) == (floor_a.agent, 60)
    assert completed.details["reason"] == "caller"
    assert events["call.answered"].details["leg"] == CUSTOMER_LEG


def test_the_agent_hangs_up(account: TwilioAccount, floor_a: Floor) -> None:
    send(*answered_call(identity(floor_a.agent), customer_hangs_up=False))
    call = Call.objects.get()
    assert (call.status, call.talk_seconds, call.hangup_by) == ("completed", 60, "agent")
    completed = CallEvent.objects.get(call=call, type="agent.completed")
    assert completed.details["reason"] == "agent"


def test_redelivered_callbacks_change_nothing(account: TwilioAccount, floor_a: Floor) -> None:
    requests = answered_call(identity(floor_a.agent))
    send(*requests)
    before = list(Call.objects.values())
    events = CallEvent.objects.count()
    send(*requests[1:])  # Twilio retries; the Voice URL would start another dial
    assert list(Call.objects.values()) == before
    assert CallEvent.objects.count() == events


@pytest.mark.parametrize(
    ("dial_status", "outcome"),
    [("no-answer", "no_answer"), ("busy", "busy"), ("failed", "failed")],
)
def test_the_customer_never_answers(
    account: TwilioAccount, floor_a: Floor, dial_status: str, outcome: str
) -> None:
    agent = identity(floor_a.agent)
    send(
        placed(agent),
        customer_leg(agent, "initiated", 0, 1),
        customer_leg(agent, "ringing", 1, 2),
        customer_leg(agent, dial_status, 2, 31, CallDuration="0"),
        # The browser's call is still up: the Dial action's (empty) answer ends it.
        dial_result(agent, "in-progress", dial_status, 0, 31),
        browser_completed(agent, 32),
    )
    call = Call.objects.get()
    assert (call.direction, call.status, call.end_outcome) == ("outbound", outcome, outcome)
    assert (call.agent, call.answered_at, call.ended_at) == (floor_a.agent, None, at(31))
    assert (call.talk_seconds, call.hangup_by) == (None, "")
    types = sorted(CallEvent.objects.filter(call=call).values_list("type", flat=True))
    assert types == ["call.created", "call.ended"]  # no agent facts: nothing was offered


def test_the_agent_gives_up_while_it_rings(account: TwilioAccount, floor_a: Floor) -> None:
    agent = identity(floor_a.agent)
    send(
        placed(agent),
        customer_leg(agent, "ringing", 1, 2),
        customer_leg(agent, "canceled", 2, 10),
        browser_completed(agent, 10),
    )
    call = Call.objects.get()
    assert (call.status, call.agent, call.ended_at) == ("canceled", floor_a.agent, at(10))


# --- refusals: told why, hung up, nothing recorded ----------------------------------


def test_a_forged_signature_is_refused(account: TwilioAccount, floor_a: Floor) -> None:
    response = deliver(Client(), placed(identity(floor_a.agent)), token="not-the-auth-token")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "twilio_signature_invalid"
    assert Call.objects.count() == 0


def _refused_and_nothing_recorded(caller: str, says: str, to: str = CALLER) -> None:
    sid = call_sid(31)
    [body] = send(placed(caller, to=to, sid=sid))
    assert_refused(body, says)
    if caller.startswith("client:"):
        # The TwiML app's status callback of the refused call records nothing either.
        assert send(browser_completed(caller, 3, sid=sid)) == [b""]
    assert Call.objects.count() == 0
    assert CallEvent.objects.count() == 0


@pytest.mark.parametrize(
    "caller",
    [
        "client:agent-999999",  # no such agent
        "client:agent-0",
        "client:1001",  # a desk client's identity, not a softphone's
        "client:agent-1x",
        CALLER,  # a phone, not a client
        "",
    ],
)
def test_a_caller_that_is_no_agent_is_refused(
    account: TwilioAccount, floor_a: Floor, caller: str
) -> None:
    _refused_and_nothing_recorded(caller, "not signed in as an active agent")


def test_an_inactive_agent_is_refused(account: TwilioAccount, floor_a: Floor) -> None:
    Agent.objects.filter(pk=floor_a.agent.pk).update(is_active=False)
    _refused_and_nothing_recorded(identity(floor_a.agent), "not signed in as an active agent")


def test_another_organizations_agent_is_refused(
    account: TwilioAccount, floor_a: Floor, floor_b: Floor
) -> None:
    _refused_and_nothing_recorded(identity(floor_b.agent), "not signed in as an active agent")


@pytest.mark.parametrize(
    "to", ["", "abc", "123", "+1555", "client:agent-3", "+1555765432101234567", "sip:x@y"]
)
def test_a_to_that_is_no_phone_number_is_refused(
    account: TwilioAccount, floor_a: Floor, to: str
) -> None:
    _refused_and_nothing_recorded(identity(floor_a.agent), "not a phone number", to=to)


def test_no_caller_id_is_refused(account: TwilioAccount, floor_a: Floor) -> None:
    TwilioAccount.objects.filter(pk=account.pk).update(caller_id="")
    _refused_and_nothing_recorded(identity(floor_a.agent), "no caller ID set up")


def test_the_by_hint_rides_in_the_signed_url() -> None:
    path = webhook_path("status", Hints(by="client:agent-5"))
    assert path == "/telephony/twilio/status/?by=client%3Aagent-5"
    assert parse_hints({"by": "client:agent-5"}) == Hints(by="client:agent-5")


# --- the caller ID, through the REST API ---------------------------------------------


def test_caller_id_is_read_and_written_through_the_api(
    account: TwilioAccount, floor_a: Floor
) -> None:
    client = client_for(floor_a.admin)
    url = f"/api/v1/twilio-accounts/{account.pk}/"
    assert client.get(url).json()["caller_id"] == CALLER_ID
    changed = client.patch(url, {"caller_id": "+442071838750"}, content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert TwilioAccount.objects.get().caller_id == "+442071838750"
    cleared = client.patch(url, {"caller_id": ""}, content_type="application/json")
    assert cleared.status_code == 200 and cleared.json()["caller_id"] == ""


@pytest.mark.parametrize("value", ["5551230000", "+0555123", "+1 555 123 0000", "+" + "1" * 16])
def test_caller_id_must_be_e164(account: TwilioAccount, floor_a: Floor, value: str) -> None:
    url = f"/api/v1/twilio-accounts/{account.pk}/"
    resp = client_for(floor_a.admin).patch(
        url, {"caller_id": value}, content_type="application/json"
    )
    assert resp.status_code == 400
    assert "caller_id" in {e["attr"] for e in resp.json()["errors"]}
    assert TwilioAccount.objects.get().caller_id == CALLER_ID
