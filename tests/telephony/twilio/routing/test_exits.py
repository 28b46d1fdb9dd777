"""Callers taken out of a Twilio queue: after the queue's maximum wait (voicemail, a
callback offer, another queue, a message and goodbye) and when nobody could take a call
(leave-when-empty). Signed webhooks in, REST calls out to the fake API, PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from contactcenter.enums import (
    AgentState,
    CallEventType,
    CallStatus,
    QueueMaxWaitAction,
    QueueStrategy,
)
from contactcenter.models import AuditEntry, Call, Callback, CallEvent, QueueMembership
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services.agents import agent_set_state
from telephony.models import ExitReason, TwilioAccount, TwilioOffer, TwilioQueueExit
from telephony.twilio.routing.exits import DEFAULT_MESSAGE
from telephony.twilio.routing.ringing import repair
from tests.conftest import Floor
from tests.factories import make_queue
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.signed import OUR_NUMBER

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


def waiting_floor(floor: Floor, api: FakeTwilioAPI, action: str) -> RoutedFloor:
    """One agent in the queue, not available: callers wait."""
    f = routed_floor(floor, api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.max_wait_seconds = 30
    f.queue.max_wait_action = action
    f.queue.save()
    return f


def past_the_wait(f: RoutedFloor, sid: str) -> str:
    """The repair job runs after the maximum wait: the caller is redirected (REST) out
    of the queue; returns the path Twilio is sent to."""
    assert repair(now=timezone.now() + timedelta(seconds=20)) == 0
    assert f.twilio.rings() == [] and f.twilio.redirects == []
    repair(now=timezone.now() + timedelta(seconds=31))
    assert f.twilio.rings() == []  # no agent rung: the update is the redirect
    [(call, path)] = f.twilio.redirects
    assert call == sid and path.startswith("/telephony/twilio/queue-exit/")
    f.twilio.left_queue(sid)
    return path


def test_after_the_maximum_wait_the_caller_hears_the_message_and_the_call_ends(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.HANGUP)
    f.queue.max_wait_message = "We are closed for the day."
    f.queue.save()
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    document = ElementTree.fromstring(f.twilio.follow(sid, path).content)
    assert document.findtext("Say") == "We are closed for the day."
    assert document.find("Hangup") is not None
    call = Call.objects.get(external_id=sid)
    exit_ = TwilioQueueExit.objects.get(call=call)
    assert (exit_.reason, exit_.action, exit_.redirected_at is not None) == (
        ExitReason.MAX_WAIT,
        QueueMaxWaitAction.HANGUP,
        True,
    )
    entry = AuditEntry.objects.get(action="routing.exit", object_id=str(call.pk))
    assert entry.details["reason"] == ExitReason.MAX_WAIT
    # Out of the queue for good: an agent who becomes free is not rung with them.
    f.available(*f.agents)
    repair(now=timezone.now() + timedelta(seconds=60))
    assert f.twilio.rings() == [] and not TwilioOffer.objects.exists()
    # The repair job runs again: the caller is not taken out twice.
    repair(now=timezone.now() + timedelta(seconds=90))
    assert (
        f.twilio.rings() == []
        and len(f.twilio.redirects) == 1
        and TwilioQueueExit.objects.count() == 1
    )
    f.twilio.caller_hangs_up(sid)
    call.refresh_from_db()
    assert call.ended_at is not None and call.answered_at is None
    # Counted as an abandon, as Asterisk reports a queue's timeout (QueueCallerAbandon).
    assert call.status == CallStatus.ABANDONED


def test_keep_waiting_is_the_default_nothing_happens_after_the_maximum(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.STAY)
    f.twilio.caller_arrives(1)
    repair(now=timezone.now() + timedelta(seconds=600))
    assert (
        f.twilio.rings() == [] and f.twilio.redirects == [] and not TwilioQueueExit.objects.exists()
    )


def test_after_the_maximum_wait_the_caller_goes_to_voicemail(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.VOICEMAIL)
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    document = ElementTree.fromstring(f.twilio.follow(sid, path).content)
    # The voicemail webhook of the queue: its prompt and <Record>.
    target = document.findtext("Redirect") or ""
    assert target == "/telephony/twilio/voicemail/?queue=support"
    record = ElementTree.fromstring(f.twilio.follow(sid, target).content)
    assert record.find("Record") is not None


def test_after_the_maximum_wait_the_caller_is_offered_a_callback_and_takes_it(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.CALLBACK)
    TwilioAccount.objects.filter(organization=floor_a.org).update(caller_id=OUR_NUMBER)
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    document = ElementTree.fromstring(f.twilio.follow(sid, path).content)
    gather = document.find("Gather")
    assert gather is not None and "press 1" in (gather.findtext("Say") or "")
    assert document.find("Hangup") is not None  # no key: goodbye
    kept = f.twilio.follow(sid, gather.get("action", ""), Digits="1")
    assert b"call you back" in kept.content
    callback = Callback.objects.get(call__external_id=sid)
    assert (callback.number, callback.queue_id) == (f.twilio.callers[sid], f.queue.pk)
    f.twilio.caller_hangs_up(sid)
    assert Call.objects.get(external_id=sid).status == CallStatus.CALLBACK


def test_without_a_caller_id_to_call_back_from_the_callback_exit_says_goodbye(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.CALLBACK)
    sid = f.twilio.caller_arrives(1)
    answer = f.twilio.follow(sid, past_the_wait(f, sid))
    assert b"<Gather" not in answer.content and b"<Hangup" in answer.content


def test_a_callback_offer_turned_down_says_goodbye_and_keeps_nothing(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.CALLBACK)
    TwilioAccount.objects.filter(organization=floor_a.org).update(caller_id=OUR_NUMBER)
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    answer = f.twilio.follow(sid, path, Digits="7")
    assert b"Goodbye" in answer.content and b"<Hangup" in answer.content
    assert not Callback.objects.exists()


def test_after_the_maximum_wait_the_caller_waits_in_another_queue_and_is_answered_there(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.QUEUE)
    overflow = make_queue(floor_a.org, "overflow")
    f.queue.max_wait_queue = overflow
    f.queue.save()
    helper = floor_a.other_agent
    QueueMembership.objects.create(organization=floor_a.org, queue=overflow, agent=helper)
    assert helper not in f.agents
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    answer = f.twilio.follow(sid, path)
    enqueue = ElementTree.fromstring(answer.content).find("Enqueue")
    assert enqueue is not None and enqueue.text == "overflow"
    # The wallboard counts the caller waiting in overflow, offered in support.
    figures = {r.queue_name: r for r in figures_by_queue(organization=floor_a.org)}
    assert (figures["Overflow"].callers_waiting, figures["Overflow"].offered) == (1, 0)
    assert (figures["Support"].callers_waiting, figures["Support"].offered) == (0, 1)
    # The overflow queue's free member is rung with the caller.
    agent_set_state(agent=helper, state=AgentState.AVAILABLE)
    [ring] = f.twilio.rings()
    assert (ring.call, ring.identity) == (sid, helper.twilio_identity)
    assert "queue=overflow" in ring.action_path
    f.twilio.answer(ring)
    call = Call.objects.get(external_id=sid)
    assert call.agent_id == helper.pk and call.answered_at is not None
    # The record keeps the queue the caller joined; the timeline shows the move.
    assert call.queue_id == f.queue.pk
    joined = CallEvent.objects.filter(call=call, type=CallEventType.QUEUE_JOINED)
    assert [e.details["queue"] for e in joined.order_by("pk")] == ["support", "overflow"]
    assert TwilioOffer.objects.get(call=call).queue_id == overflow.pk


def test_leave_when_empty_takes_callers_out_once_no_member_can_take_a_call(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.leave_empty = True
    f.queue.save()
    [agent] = f.agents
    f.available(agent)
    first = f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    second = f.twilio.caller_arrives(2)
    # The agent is on a call: they still count; the second caller waits.
    repair()
    assert f.twilio.rings() == [] and f.twilio.redirects == []
    # Paused in the queue, on their call: nobody could take the second caller.
    QueueMembership.objects.filter(agent=agent).update(paused=True)
    repair()
    assert f.twilio.rings() == []
    [(call, path)] = f.twilio.redirects
    assert (call, first != second) == (second, True)
    f.twilio.left_queue(second)
    answer = f.twilio.follow(second, path)  # "stay": the default message, goodbye
    assert DEFAULT_MESSAGE.encode() in answer.content and b"<Hangup" in answer.content
    exit_ = TwilioQueueExit.objects.get(call__external_id=second)
    assert exit_.reason == ExitReason.EMPTY


def test_a_forged_key_press_is_refused_and_keeps_nothing(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = waiting_floor(floor_a, twilio_api, QueueMaxWaitAction.CALLBACK)
    sid = f.twilio.caller_arrives(1)
    path = past_the_wait(f, sid)
    forged = Client().post(path, {"CallSid": sid, "Digits": "1"}, HTTP_X_TWILIO_SIGNATURE="forged")
    assert forged.status_code == 403
    assert not Callback.objects.exists()


def test_the_last_available_member_pausing_takes_the_callers_out_at_once(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.leave_empty = True
    f.queue.max_wait_action = QueueMaxWaitAction.HANGUP
    f.queue.save()
    [agent] = f.agents
    # In wrap-up: not offered a call, but one who could take one; the caller waits.
    agent_set_state(agent=agent, state=AgentState.WRAP_UP)
    sid = f.twilio.caller_arrives(1)
    assert f.twilio.rings() == [] and f.twilio.redirects == []
    agent_set_state(agent=agent, state=AgentState.PAUSED, reason="Lunch")
    # No repair run: the pause itself started a decision.
    assert f.twilio.rings() == []
    assert [call for call, _ in f.twilio.redirects] == [sid]
    exit_ = TwilioQueueExit.objects.get(call__external_id=sid)
    assert (exit_.reason, exit_.action) == (ExitReason.EMPTY, QueueMaxWaitAction.HANGUP)
