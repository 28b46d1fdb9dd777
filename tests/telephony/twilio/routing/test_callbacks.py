"""Callbacks placed on Twilio by the routing: the next free agent of the queue gets the
callback, the customer is called through REST (the fake API on a real socket), the
placed call's signed status callbacks say how the attempt went; retries, giving up."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contactcenter.enums import CallEventType, CallStatus, QueueStrategy
from contactcenter.models import AuditEntry, Call, Callback, CallbackStatus
from contactcenter.models.audit import ActorKind
from contactcenter.selectors.reports import queue_report
from contactcenter.services.callbacks import callback_schedule
from telephony.models import OfferStatus, TwilioAccount, TwilioOffer
from telephony.twilio.routing.ringing import repair
from tests.conftest import Floor
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


def test_a_due_callback_is_placed_for_the_next_free_agent_and_answered(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    [agent] = f.agents
    callback = callback_schedule(queue=f.queue, number="(555) 765-0001")
    assert callback.number == CUSTOMER  # read in the organization's region
    assert twilio_api.created == []  # nobody free yet
    f.available(agent)
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
    placed_status(f, placed, "in-progress")
    callback.refresh_from_db()
    assert (callback.status, callback.last_outcome) == (CallbackStatus.ANSWERED, "answered")
    # Twilio said so: the attempt's audit entry names the account's PBX connection.
    entry = AuditEntry.objects.get(action="attempt", object_id=str(callback.pk))
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.PBX, f"twilio:{ACCOUNT_SID}")
    assert entry.details == {"outcome": "answered", "attempt": 1}
    # While on the callback, the agent is offered nobody else.
    f.twilio.caller_arrives(1)
    assert f.twilio.rings() == []
    placed_status(f, placed, "completed")
    [ring] = f.twilio.rings()
    assert ring.identity == agent.twilio_identity
    offer = TwilioOffer.objects.get(callback=callback)
    assert offer.status == OfferStatus.DONE and offer.answered_at is not None


def test_an_unanswered_callback_is_retried_after_its_delay_then_given_up(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    f.available(*f.agents)
    callback = callback_schedule(queue=f.queue, number=CUSTOMER, max_attempts=2, retry_seconds=60)
    repair()
    [first] = twilio_api.created
    placed_status(f, first, "no-answer")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.WAITING,
        1,
        "no_answer",
    )
    assert repair(now=timezone.now() + timedelta(seconds=30)) == 0
    assert repair(now=timezone.now() + timedelta(seconds=61)) == 1
    second = twilio_api.created[1]
    placed_status(f, second, "busy")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.GIVEN_UP,
        2,
        "busy",
    )
    assert repair(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(twilio_api.created) == 2


def test_a_scheduled_callback_waits_for_its_time(floor_a: Floor, twilio_api: FakeTwilioAPI) -> None:
    f = floor_with_caller_id(floor_a, twilio_api)
    f.available(*f.agents)
    at = timezone.now() + timedelta(minutes=10)
    callback_schedule(queue=f.queue, number=CUSTOMER, at=at)
    assert repair() == 0 and twilio_api.created == []
    assert repair(now=at + timedelta(seconds=1)) == 1
    assert [c.fields["To"] for c in twilio_api.created] == [CUSTOMER]


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
    assert [c.fields["To"] for c in twilio_api.created] == [CUSTOMER]
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
    entry = AuditEntry.objects.get(action="create", object_id=str(kept.pk))
    assert (entry.object_type, entry.actor_kind) == ("contactcenter.callback", ActorKind.PBX)
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
