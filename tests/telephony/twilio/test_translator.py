"""The mapping itself, request by request: Twilio callback in, facts out (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactcenter import facts as te
from telephony.twilio import translator
from telephony.twilio.callbacks import Hints
from telephony.twilio.params import Callback
from tests.telephony.twilio.signed import call_sid

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
WHEN = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)
P, C = call_sid(1), call_sid(2)
AGENT = "client:1001"


def names(facts: list[te.CallFact]) -> list[str]:
    return [type(f).__name__ for f in facts]


@pytest.mark.parametrize(
    ("direction", "status", "expected", "outcome"),
    [
        ("inbound", "ringing", [], None),
        ("inbound", "in-progress", [], None),  # Twilio answering to run our TwiML
        ("inbound", "completed", ["CallEnded"], None),
        ("inbound", "canceled", ["CallEnded"], "canceled"),
        ("outbound-api", "initiated", ["CallStarted"], None),
        ("outbound-api", "ringing", ["CallStarted"], None),
        ("outbound-api", "in-progress", ["CallStarted", "CallAnswered"], None),
        ("outbound-api", "completed", ["CallStarted", "CallEnded"], None),
        ("outbound-api", "busy", ["CallStarted", "CallEnded"], "busy"),
        ("outbound-api", "no-answer", ["CallStarted", "CallEnded"], "no_answer"),
        ("outbound-api", "failed", ["CallStarted", "CallEnded"], "failed"),
        ("outbound-api", "canceled", ["CallStarted", "CallEnded"], "canceled"),
    ],
)
def test_call_status(direction: str, status: str, expected: list[str], outcome: str | None) -> None:
    cb = Callback(call_sid=P, status=status, direction=direction, sequence=4, timestamp=WHEN)
    facts = translator.status(cb, Hints(agent=AGENT), now=NOW)
    assert names(facts) == expected
    assert all(f.call_key == P and f.at == WHEN for f in facts)
    assert len({f.dedup_key for f in facts}) == len(facts)
    assert all(f.dedup_key.startswith(f"twilio:{P}:{status}:4:") for f in facts)
    for fact in facts:
        if isinstance(fact, te.CallEnded):
            assert fact.outcome == outcome
        if isinstance(fact, te.CallStarted | te.CallAnswered):
            assert fact.agent == AGENT


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("initiated", []),
        ("ringing", ["AgentOffered"]),
        ("in-progress", ["CallAnswered"]),
        ("no-answer", ["AgentOfferEnded"]),
        ("busy", ["AgentOfferEnded"]),
        ("completed", []),  # the Dial action reports the end of the leg
    ],
)
def test_agent_leg_status(status: str, expected: list[str]) -> None:
    cb = Callback(call_sid=C, parent_call_sid=P, status=status, to=AGENT, sequence=1)
    facts = translator.status(cb, Hints(queue="support"), now=NOW)
    assert names(facts) == expected
    for fact in facts:
        assert (fact.call_key, fact.at) == (P, NOW)  # the parent's call; no Timestamp: now
        assert getattr(fact, "agent", None) == AGENT
        assert getattr(fact, "leg_id", None) == C


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("hangup", ["QueueLeft", "QueueAbandoned"]),
        ("leave", ["QueueLeft", "QueueAbandoned"]),
        ("redirected", ["QueueLeft"]),
        ("queue-full", ["QueueLeft"]),
        ("error", ["QueueLeft"]),
        ("bridged", []),
    ],
)
def test_queue_result(result: str, expected: list[str]) -> None:
    cb = Callback(call_sid=P, status="in-progress", queue_result=result, queue_time=17)
    facts = translator.queue_result(cb, Hints(queue="support"), now=NOW)
    assert names(facts) == expected
    for fact in facts:
        if isinstance(fact, te.QueueAbandoned):
            assert (fact.queue, fact.wait_seconds) == ("support", 17)


@pytest.mark.parametrize(
    ("parent_status", "dial_status", "expected", "requeue"),
    [
        ("completed", "completed", ["AgentCompleted"], False),
        ("in-progress", "completed", ["AgentCompleted"], False),
        ("in-progress", "no-answer", ["QueueJoined"], True),
        ("in-progress", "busy", ["QueueJoined"], True),
        ("completed", "canceled", [], False),  # the caller hung up while it rang
    ],
)
def test_dial_result(
    parent_status: str, dial_status: str, expected: list[str], requeue: bool
) -> None:
    cb = Callback(
        call_sid=P, status=parent_status, dial_status=dial_status, dial_call_sid=C, dial_duration=42
    )
    hints = Hints(agent=AGENT, queue="support")
    facts = translator.dial_result(cb, hints, now=NOW)
    assert names(facts) == expected
    assert translator.should_requeue(cb, hints) is requeue
    for fact in facts:
        if isinstance(fact, te.AgentCompleted):
            assert fact.talk_seconds == 42
            assert fact.reason == ("agent" if parent_status == "in-progress" else "caller")


def test_the_same_request_gives_the_same_keys() -> None:
    cb = Callback(call_sid=C, parent_call_sid=P, status="ringing", to=AGENT, sequence=1)
    once = translator.status(cb, Hints(), now=NOW)
    later = translator.status(cb, Hints(), now=datetime(2030, 1, 1, tzinfo=UTC))
    assert [f.dedup_key for f in once] == [f.dedup_key for f in later]


CUSTOMER = "+15557654321"


def test_client_call_is_an_outbound_call_placed_by_the_agent() -> None:
    cb = Callback(call_sid=P, status="ringing", direction="inbound", from_number=AGENT, to="x")
    [fact] = translator.client_call(
        cb, agent=AGENT, caller_id="+15551230000", callee=CUSTOMER, now=NOW
    )
    assert isinstance(fact, te.CallStarted)
    assert (fact.call_key, fact.at, fact.direction, fact.agent) == (P, NOW, "outbound", AGENT)
    assert (fact.caller_number, fact.callee_number) == ("+15551230000", CUSTOMER)
    assert translator.placed_from_browser(cb)
    assert not translator.placed_from_browser(Callback(call_sid=P, from_number=CUSTOMER))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("initiated", []),
        ("ringing", []),  # the customer's phone rings: no agent is offered anything
        ("in-progress", ["CallAnswered"]),
        ("no-answer", []),  # the Dial action says how it went
        ("busy", []),
        ("completed", []),
    ],
)
def test_customer_leg_status(status: str, expected: list[str]) -> None:
    cb = Callback(call_sid=C, parent_call_sid=P, status=status, to=CUSTOMER, sequence=2)
    facts = translator.status(cb, Hints(by=AGENT), now=NOW)
    assert names(facts) == expected
    for fact in facts:
        assert isinstance(fact, te.CallAnswered)
        assert (fact.call_key, fact.agent, fact.leg_id, fact.queue) == (P, AGENT, C, "")


@pytest.mark.parametrize(
    ("parent_status", "dial_status", "expected", "detail"),
    [
        ("in-progress", "completed", ["AgentCompleted"], "caller"),  # the customer hung up
        ("completed", "completed", ["AgentCompleted"], "agent"),  # the agent hung up
        ("in-progress", "no-answer", ["CallEnded"], "no_answer"),
        ("in-progress", "busy", ["CallEnded"], "busy"),
        ("in-progress", "failed", ["CallEnded"], "failed"),
        ("completed", "canceled", ["CallEnded"], "canceled"),  # the agent gave up
    ],
)
def test_customer_dial_result(
    parent_status: str, dial_status: str, expected: list[str], detail: str
) -> None:
    cb = Callback(
        call_sid=P, status=parent_status, dial_status=dial_status, dial_call_sid=C, dial_duration=42
    )
    hints = Hints(by=AGENT)
    facts = translator.dial_result(cb, hints, now=NOW)
    assert names(facts) == expected
    assert not translator.should_requeue(cb, hints)
    [fact] = facts
    assert (fact.call_key, fact.at) == (P, NOW)
    if isinstance(fact, te.AgentCompleted):
        assert (fact.agent, fact.talk_seconds, fact.reason) == (AGENT, 42, detail)
    else:
        assert isinstance(fact, te.CallEnded) and fact.outcome == detail
