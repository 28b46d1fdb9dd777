"""Callbacks on Twilio take the console's offer path, as on Asterisk: the routing offers
a due callback to the next free agent of the queue in their console, the agent accepts
it (REST, as the console does) and the call is placed through Twilio's REST API (the
fake API on a real socket); the placed call's signed status callbacks say how the
attempt went; lapses and declines, retries, giving up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contactcenter.enums import AgentState, CallEventType, CallStatus, QueueStrategy
from contactcenter.models import Agent, AuditEntry, Call, Callback, CallbackStatus, Membership
from contactcenter.models.audit import ActorKind
from contactcenter.selectors.reports import queue_report
from contactcenter.services.callbacks import callback_schedule
from telephony.models import TwilioAccount, TwilioOffer
from telephony.twilio.routing.ringing import repair
from tests.conftest import Floor, client_for
from tests.telephony.twilio.fakeapi import CallUpdate, FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.signed import ACCOUNT_SID, OUR_NUMBER, TwilioRequest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]

CUSTOMER = "+15557650001"


def floor_with_caller_id(floor: Floor, api: FakeTwilioAPI, agents: int = 1) -> RoutedFloor:
    f = routed_floor(floor, api, agents=agents, strategy=QueueStrategy.RRMEMORY)
    TwilioAccount.objects.filter(organization=floor.org).update(caller_id=OUR_NUMBER)
    return f


def placed_status(f: RoutedFloor, placed: CallUpdate, status: str) -> None:
    """The placed call's status callback, to the URL the server gave Twilio."""
    url = urlsplit(placed.fields["StatusCallback"])
    fields = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": placed.call_sid,
        "CallStatus": status,
        "Direction": "outbound-api",
        "From": OUR_NUMBER,
        "To": placed.fields["To"],
    }
    response = f.twilio.deliver(TwilioRequest(f"{url.path}?{url.query}", fields))
    assert response.status_code == 204, response.content


def offer_of(f: RoutedFloor, agent: Agent) -> dict[str, object] | None:
    """The agent's callback offer, as their console reads it (REST)."""
    member = Membership.objects.get(pk=_member(f, agent))
    response = client_for(member).get("/api/v1/callbacks/offer/")
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


def _member(f: RoutedFloor, agent: Agent) -> int:
    assert agent.user_id is not None
    return int(Membership.objects.get(organization=f.floor.org, user_id=agent.user_id).pk)


def accept(f: RoutedFloor, agent: Agent, callback: Callback) -> int:
    member = Membership.objects.get(pk=_member(f, agent))
    response = client_for(member).post(f"/api/v1/callbacks/{callback.pk}/accept/")
    return int(response.status_code)


def decline(f: RoutedFloor, agent: Agent, callback: Callback) -> int:
    member = Membership.objects.get(pk=_member(f, agent))
    response = client_for(member).post(f"/api/v1/callbacks/{callback.pk}/decline/")
    return int(response.status_code)


def agent_leg(f: RoutedFloor, placed: CallUpdate, agent: Agent, status: str) -> None:
    """The leg of the placed call that rings the agent's browser (the <Client> of the
    placed call's TwiML), once the customer answered."""
    document = ElementTree.fromstring(placed.fields["Twiml"])
    client = document.find("Dial/Client")
    assert client is not None and client.findtext("Identity") == agent.twilio_identity
    url = urlsplit(client.get("statusCallback", ""))
    fields = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + "e" * 32,
        "ParentCallSid": placed.call_sid,
        "CallStatus": status,
        "Direction": "outbound-dial",
        "From": OUR_NUMBER,
        "To": f"client:{agent.twilio_identity}",
    }
    response = f.twilio.deliver(TwilioRequest(f"{url.path}?{url.query}", fields))
    assert response.status_code == 204, response.content


def test_a_due_callback_is_offered_in_the_console_then_placed_when_accepted(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    callback = callback_schedule(queue=f.queue, number="(555) 765-0001")
    assert callback.number == CUSTOMER  # read in the organization's region
    assert offer_of(f, agent) is None  # nobody free yet
    f.available(agent)
    # Offered in the agent's console, as on Asterisk: nothing is placed yet.
    assert twilio_api.created == []
    callback.refresh_from_db()
    assert (callback.status, callback.agent_id) == (CallbackStatus.OFFERED, agent.pk)
    assert callback.offered_at is not None and callback.attempts == 0
    offered = offer_of(f, agent)
    assert offered is not None and offered["id"] == callback.pk
    assert AuditEntry.objects.filter(action="offer", object_id=str(callback.pk)).count() == 1
    # While it is offered the agent is offered nobody else.
    f.twilio.caller_arrives(1)
    assert f.twilio.rings() == []
    # "Call back": Twilio calls the customer from the caller ID, then the agent's browser.
    assert accept(f, agent, callback) == 200
    [placed] = twilio_api.created
    assert (placed.fields["To"], placed.fields["From"]) == (CUSTOMER, OUR_NUMBER)
    hints = parse_qs(urlsplit(placed.fields["StatusCallback"]).query)
    assert hints == {"agent": [f"client:{agent.twilio_identity}"], "callback": [str(callback.pk)]}
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.agent_id) == (
        CallbackStatus.DIALING,
        1,
        agent.pk,
    )
    assert callback.placed_call_sid == placed.call_sid
    entry = AuditEntry.objects.get(action="pbx.originate")
    assert entry.details["callback"] == callback.pk and entry.details["ok"] is True
    placed_status(f, placed, "in-progress")
    callback.refresh_from_db()
    assert (callback.status, callback.last_outcome) == (CallbackStatus.ANSWERED, "answered")
    # Twilio's record of the placed call said so: the attempt's entry names its account.
    entry = AuditEntry.objects.get(action="attempt", object_id=str(callback.pk))
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.PBX, f"twilio:{ACCOUNT_SID}")
    assert entry.details == {"outcome": "answered", "attempt": 1}
    # The agent's browser rings, they answer: on a call, and offered nobody else.
    agent_leg(f, placed, agent, "ringing")
    agent.refresh_from_db()
    assert agent.state == AgentState.RINGING
    agent_leg(f, placed, agent, "in-progress")
    agent.refresh_from_db()
    assert agent.state == AgentState.ON_CALL
    assert f.twilio.rings() == []
    placed_status(f, placed, "completed")
    [ring] = f.twilio.rings()
    assert ring.identity == agent.twilio_identity
    assert not TwilioOffer.objects.filter(callback=callback).exists()


def test_an_unanswered_callback_is_retried_after_its_delay_then_given_up(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    f.available(agent)
    callback = callback_schedule(queue=f.queue, number=CUSTOMER, max_attempts=2, retry_seconds=60)
    repair()
    assert accept(f, agent, callback) == 200
    [first] = twilio_api.created
    placed_status(f, first, "no-answer")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.WAITING,
        1,
        "no_answer",
    )
    repair(now=timezone.now() + timedelta(seconds=30))
    assert offer_of(f, agent) is None
    repair(now=timezone.now() + timedelta(seconds=61))
    callback.refresh_from_db()
    assert (callback.status, callback.agent_id) == (CallbackStatus.OFFERED, agent.pk)
    assert accept(f, agent, callback) == 200
    second = twilio_api.created[1]
    placed_status(f, second, "busy")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.GIVEN_UP,
        2,
        "busy",
    )
    repair(now=timezone.now() + timedelta(hours=1))
    assert offer_of(f, agent) is None
    assert len(twilio_api.created) == 2


def test_an_offer_let_lapse_or_declined_goes_to_another_agent_first(
    floor_a: Floor, twilio_api: FakeTwilioAPI, settings: Any
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api, agents=2)
    a, b = f.agents
    f.available(a, b)
    callback = callback_schedule(queue=f.queue, number=CUSTOMER)
    repair()
    callback.refresh_from_db()
    first = callback.agent_id
    assert callback.status == CallbackStatus.OFFERED and first in (a.pk, b.pk)
    other = b if first == a.pk else a
    # Nobody takes it within CALLBACK_OFFER_SECONDS: it lapses and goes to the other.
    repair(now=timezone.now() + timedelta(seconds=settings.CALLBACK_OFFER_SECONDS + 1))
    callback.refresh_from_db()
    assert (callback.status, callback.agent_id) == (CallbackStatus.OFFERED, other.pk)
    assert AuditEntry.objects.filter(action="offer_lapse", object_id=str(callback.pk)).exists()
    # Only the agent it is offered to takes it; they decline: back to the first agent.
    assert accept(f, Agent.objects.get(pk=first), callback) == 409
    assert decline(f, other, callback) == 200
    callback.refresh_from_db()
    assert (callback.status, callback.agent_id) == (CallbackStatus.OFFERED, first)
    assert twilio_api.created == []


def test_a_scheduled_callback_waits_for_its_time(floor_a: Floor, twilio_api: FakeTwilioAPI) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    f.available(agent)
    at = timezone.now() + timedelta(minutes=10)
    callback = callback_schedule(queue=f.queue, number=CUSTOMER, at=at)
    repair()
    assert offer_of(f, agent) is None
    repair(now=at + timedelta(seconds=1))
    callback.refresh_from_db()
    assert (callback.status, callback.agent_id) == (CallbackStatus.OFFERED, agent.pk)
    assert twilio_api.created == []


def test_a_kept_place_goes_before_a_caller_who_came_later(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    first = f.twilio.caller_arrives(1)
    later = f.twilio.caller_arrives(2)
    # The first caller asks to be called back: they keep their place, ahead of the other.
    kept = callback_schedule(
        queue=f.queue, number=CUSTOMER, call=Call.objects.get(external_id=first)
    )
    again = callback_schedule(
        queue=f.queue, number=CUSTOMER, call=Call.objects.get(external_id=first)
    )
    assert again.pk == kept.pk and Callback.objects.count() == 1
    f.twilio.caller_hangs_up(first)
    f.available(agent)
    kept.refresh_from_db()
    assert (kept.status, kept.agent_id) == (CallbackStatus.OFFERED, agent.pk)
    assert f.twilio.rings() == []
    assert Call.objects.get(external_id=later).answered_at is None


def test_a_waiting_caller_presses_1_keeps_their_place_and_is_called_back(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    sid = f.twilio.caller_arrives(7)
    caller = f.twilio.callers[sid]
    base = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": caller, "To": OUR_NUMBER}
    waiting = {**base, "CallStatus": "in-progress", "Direction": "inbound"}
    wait = f.twilio.deliver(
        TwilioRequest("/telephony/twilio/wait/?queue=support", {**waiting, "QueuePosition": "1"})
    )
    gather = ElementTree.fromstring(wait.content).find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert "number 1 in line" in (gather.findtext("Say") or "")
    pressed = f.twilio.deliver(
        TwilioRequest(_path(gather.get("action", "")), {**waiting, "Digits": "1"})
    )
    assert ElementTree.fromstring(pressed.content).find("Leave") is not None
    call = Call.objects.get(external_id=sid)
    kept = Callback.objects.get(call=call)
    assert (kept.number, kept.place_at, kept.queue_id) == (caller, call.queued_at, f.queue.pk)
    # The key press came through Twilio: the callback's audit entry names its connection.
    entry = AuditEntry.objects.get(
        action="create", object_type="contactcenter.callback", object_id=str(kept.pk)
    )
    assert entry.actor_kind == ActorKind.PBX
    assert entry.actor_label == f"twilio:{ACCOUNT_SID}"
    left = f.twilio.deliver(
        TwilioRequest(
            "/telephony/twilio/queue-result/?queue=support",
            {**waiting, "QueueResult": "leave", "QueueTime": "40"},
        )
    )
    assert b"call you back" in left.content and b"<Hangup" in left.content
    # The agent gets the callback, not the call (still open until Twilio says it ended).
    f.available(agent)
    assert f.twilio.rings() == []
    kept.refresh_from_db()
    assert (kept.status, kept.agent_id) == (CallbackStatus.OFFERED, agent.pk)
    assert accept(f, agent, kept) == 200
    assert [c.fields["To"] for c in twilio_api.created] == [caller]

    # The call ends: it asked for a callback, it did not abandon the queue (the queue's
    # figures count it offered, neither answered nor abandoned, and the callback asked).
    f.twilio.caller_hangs_up(sid)
    call.refresh_from_db()
    assert (call.status, call.answered_at) == (CallStatus.CALLBACK, None)
    assert call.ended_at is not None
    assert call.events.filter(type=CallEventType.CALLBACK_REQUESTED).count() == 1
    assert call.queued_at is not None
    day = call.queued_at.astimezone(ZoneInfo(floor_a.org.time_zone)).date()
    report = queue_report(organization=floor_a.org, date_from=day, date_to=day, queue_id=f.queue.pk)
    totals = report.totals
    assert (totals.offered, totals.answered, totals.abandoned) == (1, 0, 0)
    assert (totals.callbacks_requested, totals.short_abandoned) == (1, 0)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_without_a_caller_id_the_wait_says_the_position_and_wait_but_offers_no_callback(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    sid = f.twilio.caller_arrives(8)
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": f.twilio.callers[sid],
        "To": OUR_NUMBER,
    }
    wait = f.twilio.deliver(
        TwilioRequest(
            "/telephony/twilio/wait/?queue=support",
            {**fields, "QueuePosition": "3", "AvgQueueTime": "130"},
        )
    )
    document = ElementTree.fromstring(wait.content)
    assert document.find("Gather") is None
    assert document.findtext("Say") == "You are number 3 in line. The wait is about 2 minutes. "
    assert document.find("Play") is not None
    pressed = f.twilio.deliver(
        TwilioRequest(
            "/telephony/twilio/callback-request/?queue=support", {**fields, "Digits": "1"}
        )
    )
    assert ElementTree.fromstring(pressed.content).find("Leave") is None
    assert not Callback.objects.exists()
