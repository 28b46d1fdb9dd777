"""What each webhook answers, and what its requests become."""

from __future__ import annotations

import pytest
from django.test import Client

from contactcenter.models import Call, CallQueue, CallTransfer
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from tests.conftest import Floor
from tests.factories import make_queue
from tests.telephony.twilio import scenarios
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    at,
    call_sid,
    deliver,
    stamp,
)

pytestmark = pytest.mark.django_db

PARENT = scenarios.PARENT
LEG = scenarios.AGENT_LEG


def parent(path: str, status: str, **extra: str) -> TwilioRequest:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": PARENT,
        "CallStatus": status,
        "Direction": "inbound",
        "From": CALLER,
        "To": OUR_NUMBER,
        **extra,
    }
    return TwilioRequest(path, fields)


def leg(
    hints: Hints, status: str, seq: int, seconds: float, to: str, sid: str = LEG
) -> TwilioRequest:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "ParentCallSid": PARENT,
        "CallStatus": status,
        "Direction": "outbound-dial",
        "From": CALLER,
        "To": to,
        "SequenceNumber": str(seq),
        "Timestamp": stamp(seconds),
    }
    return TwilioRequest(webhook_path("status", hints), fields)


def send(*requests: TwilioRequest) -> list[bytes]:
    client = Client()
    bodies = []
    for request in requests:
        response = deliver(client, request)
        assert response.status_code in (200, 204), (str(request), response.content)
        bodies.append(response.content)
    return bodies


def start(seconds: float = 0) -> TwilioRequest:
    return parent(webhook_path("voice"), "ringing", Timestamp=stamp(seconds))


def test_voice_enqueues_into_the_first_active_queue(account: TwilioAccount, floor_a: Floor) -> None:
    inactive = make_queue(floor_a.org, "billing")  # sorts first, but is not active
    CallQueue.objects.filter(pk=inactive.pk).update(is_active=False)
    make_queue(floor_a.org, "support")
    make_queue(floor_a.org, "zeta")
    [body] = send(start())
    assert b'<Enqueue action="/telephony/twilio/queue-result/?queue=support"' in body
    assert b">support</Enqueue>" in body
    call = Call.objects.get()
    assert (call.status, call.queue.pbx_queue_name, call.queued_at) == ("queued", "support", at(0))


def test_voice_queue_by_query_parameter(account: TwilioAccount, floor_a: Floor) -> None:
    make_queue(floor_a.org, "support")
    make_queue(floor_a.org, "sales")
    request = start()
    [body] = send(TwilioRequest(webhook_path("voice", Hints(queue="sales")), request.fields))
    assert b">sales</Enqueue>" in body
    assert Call.objects.get().queue.pbx_queue_name == "sales"


def test_voice_without_a_queue_says_sorry(account: TwilioAccount, floor_a: Floor) -> None:
    [body] = send(start())
    assert b"<Say>" in body and b"<Hangup />" in body
    send(parent(webhook_path("status"), "completed", Timestamp=stamp(9), SequenceNumber="0"))
    call = Call.objects.get()
    assert (call.status, call.queue, call.ended_at) == ("canceled", None, at(9))


def test_caller_hangs_up_in_the_queue(account: TwilioAccount, queue: CallQueue) -> None:
    bodies = send(
        start(),
        parent(
            webhook_path("queue-result", Hints(queue="support")),
            "completed",
            QueueResult="hangup",
            QueueTime="31",
        ),
        parent(webhook_path("status"), "completed", Timestamp=stamp(31), SequenceNumber="0"),
    )
    assert bodies[1] == b'<?xml version="1.0" encoding="UTF-8"?><Response />'
    call = Call.objects.get()
    assert (call.status, call.wait_seconds, call.answered_at) == ("abandoned", 31, None)
    types = list(call.events.order_by("type").values_list("type", flat=True))
    assert types == ["call.created", "call.ended", "queue.abandoned", "queue.joined", "queue.left"]


def test_agent_does_not_answer_and_the_caller_goes_back_in_line(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    agent = f"client:{floor_a.agent.extension}"
    hints = Hints(agent=agent, queue="support")
    bodies = send(
        start(),
        leg(hints, "ringing", 1, 3, agent),
        leg(hints, "no-answer", 2, 23, agent),
        parent(
            webhook_path("dial-result", hints),
            "in-progress",
            DialCallStatus="no-answer",
            DialCallSid=LEG,
            DialCallDuration="0",
        ),
    )
    assert b">support</Enqueue>" in bodies[-1]
    call = Call.objects.get()
    assert (call.status, call.agent, call.answered_at) == ("queued", None, None)
    offer = call.events.get(type="agent.ring_no_answer")
    assert (offer.agent, offer.details["outcome"], offer.occurred_at) == (
        floor_a.agent,
        "no_answer",
        at(23),
    )
    assert call.events.filter(type="queue.joined").count() == 2


def test_agent_hangs_up_first(account: TwilioAccount, queue: CallQueue, floor_a: Floor) -> None:
    agent = f"client:{floor_a.agent.extension}"
    hints = Hints(agent=agent, queue="support")
    bodies = send(
        start(),
        leg(hints, "in-progress", 2, 10, agent),
        parent(
            webhook_path("dial-result", hints),
            "in-progress",
            DialCallStatus="completed",
            DialCallSid=LEG,
            DialCallDuration="50",
        ),
        parent(webhook_path("status"), "completed", Timestamp=stamp(60), SequenceNumber="0"),
    )
    assert bodies[2] == b'<?xml version="1.0" encoding="UTF-8"?><Response />'
    call = Call.objects.get()
    assert (call.status, call.agent, call.hangup_by) == ("completed", floor_a.agent, "agent")
    assert (call.wait_seconds, call.talk_seconds) == (10, 50)


def test_blind_transfer_to_another_agent(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    first, second = f"client:{floor_a.agent.extension}", f"client:{floor_a.other_agent.extension}"
    key = "twilio-transfer:abc"
    to_second = Hints(agent=second, transfer=key, from_agent=first)
    send(
        start(),
        leg(Hints(agent=first, queue="support"), "in-progress", 2, 10, first),
        leg(to_second, "ringing", 1, 40, second, sid=call_sid(7)),
        leg(to_second, "in-progress", 2, 45, second, sid=call_sid(7)),
    )
    transfer = CallTransfer.objects.get()
    assert (transfer.dedup_key, transfer.kind, transfer.status) == (key, "blind", "completed")
    assert (transfer.from_agent, transfer.to_agent) == (floor_a.agent, floor_a.other_agent)
    assert transfer.answered_at == at(45)
    call = Call.objects.get()
    assert call.agent == floor_a.agent  # the call's agent is who answered it first


def test_blind_transfer_to_a_number_that_is_busy(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    first = f"client:{floor_a.agent.extension}"
    hints = Hints(transfer="twilio-transfer:def", from_agent=first)
    send(start(), leg(hints, "busy", 1, 40, "+15559990000", sid=call_sid(8)))
    transfer = CallTransfer.objects.get()
    assert (transfer.status, transfer.to_number, transfer.from_agent) == (
        "failed",
        "+15559990000",
        floor_a.agent,
    )


def test_callbacks_that_say_nothing_new_write_nothing(
    account: TwilioAccount, queue: CallQueue
) -> None:
    send(
        parent(webhook_path("status"), "ringing", Timestamp=stamp(0), SequenceNumber="0"),
        parent(webhook_path("status"), "in-progress", Timestamp=stamp(1), SequenceNumber="1"),
        parent(
            webhook_path("queue-result", Hints(queue="support")),
            "completed",
            QueueResult="bridged",
            QueueTime="4",
        ),
    )
    assert Call.objects.count() == 0
