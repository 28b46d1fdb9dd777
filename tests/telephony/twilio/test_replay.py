"""Whole calls through the webhooks: in order, shuffled, and every request twice.

Twilio sends status callbacks asynchronously, so they arrive in any order, and it may
send one again. The records must come out the same every way, and a repeat must write
nothing. The Voice URL request is the exception: Twilio waits for our TwiML before the
call goes anywhere, so it is always first (see the strict xfail below for why that
matters today).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contactcenter.models import Call, CallEvent, CallQueue, CallTransfer
from telephony.models import TwilioAccount
from tests.conftest import Floor
from tests.telephony.twilio import scenarios
from tests.telephony.twilio.signed import TwilioRequest, at, deliver

pytestmark = pytest.mark.django_db

SEEDS = [1, 2, 3, 5, 8, 13]


def snapshot() -> dict[str, Any]:
    """The records, without what depends on the wall clock (row ids, times of receipt)."""
    calls = [
        {
            "call": c.external_id,
            "status": c.status,
            "direction": c.direction,
            "agent": c.agent_id,
            "queue": c.queue_id,
            "started": c.started_at,
            "queued": c.queued_at,
            "answered": c.answered_at,
            "ended": c.ended_at,
            "abandoned": c.abandoned_at,
            "wait": c.wait_seconds,
            "talk": c.talk_seconds,
            "outcome": c.end_outcome,
            "hangup_by": c.hangup_by,
            "numbers": (c.caller_number, c.caller_name, c.callee_number),
            "flags": c.flags,
        }
        for c in Call.objects.order_by("external_id")
    ]
    events = sorted(
        CallEvent.objects.values_list("call__external_id", "type", "dedup_key", "agent_id")
    )
    transfers = sorted(
        CallTransfer.objects.values_list(
            "dedup_key", "kind", "status", "from_agent_id", "to_agent_id", "to_number"
        )
    )
    return {"calls": calls, "events": events, "transfers": transfers}


def run(requests: Sequence[TwilioRequest]) -> dict[str, Any]:
    Call.objects.all().delete()
    client = Client()
    for request in requests:
        response = deliver(client, request)
        assert response.status_code in (200, 204), (str(request), response.content)
    return snapshot()


def shuffled(requests: Sequence[TwilioRequest], seed: int, *, keep_first: bool) -> list:
    head, rest = (list(requests[:1]), list(requests[1:])) if keep_first else ([], list(requests))
    random.Random(seed).shuffle(rest)
    return head + rest


def twice(requests: Sequence[TwilioRequest]) -> list[TwilioRequest]:
    return [r for request in requests for r in (request, request)]


def assert_same_every_way(requests: Sequence[TwilioRequest], *, keep_first: bool) -> dict:
    expected = run(requests)
    for seed in SEEDS:
        assert run(shuffled(requests, seed, keep_first=keep_first)) == expected, seed
    assert run(twice(requests)) == expected
    # A whole second delivery afterwards: every request is a repeat and writes nothing.
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        for request in requests:
            assert deliver(client, request).status_code in (200, 204)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert snapshot() == expected
    return expected


def test_inbound_queue_call(floor_a: Floor, account: TwilioAccount, queue: CallQueue) -> None:
    requests = scenarios.inbound_queue_call(floor_a.agent.extension)
    records = assert_same_every_way(requests, keep_first=True)

    [call] = records["calls"]
    assert call["call"] == scenarios.PARENT
    assert (call["status"], call["direction"]) == ("completed", "inbound")
    assert (call["agent"], call["queue"]) == (floor_a.agent.pk, queue.pk)
    assert (call["started"], call["queued"], call["answered"], call["ended"]) == (
        at(0),
        at(0),
        at(12),
        at(72),
    )
    assert (call["wait"], call["talk"], call["hangup_by"]) == (12, 60, "caller")
    assert call["numbers"] == ("+15557654321", "JOHN SMITH", "+15551230000")
    assert call["flags"] == {}
    assert [e[1] for e in records["events"]] == sorted(
        [
            "call.created",
            "queue.joined",
            "queue.left",
            "agent.called",
            "call.answered",
            "agent.completed",
            "call.ended",
        ]
    )
    assert records["transfers"] == []


def test_outbound_call(floor_a: Floor, account: TwilioAccount) -> None:
    records = assert_same_every_way(
        scenarios.outbound_call(floor_a.agent.extension), keep_first=False
    )

    [call] = records["calls"]
    assert (call["status"], call["direction"], call["agent"]) == (
        "completed",
        "outbound",
        floor_a.agent.pk,
    )
    assert (call["started"], call["answered"], call["ended"]) == (at(0), at(8), at(68))
    assert (call["wait"], call["talk"], call["queue"]) == (None, 60, None)
    assert call["numbers"] == ("+15551230000", "", "+15557654321")
    # Each callback restates the start (any may come first); the timeline keeps one
    # call.created, at the earliest start.
    types = [e[1] for e in records["events"]]
    assert (types.count("call.created"), types.count("call.answered")) == (1, 1)


@pytest.mark.parametrize(
    ("final", "status"),
    [("busy", "busy"), ("no-answer", "no_answer"), ("failed", "failed"), ("canceled", "canceled")],
)
def test_outbound_call_not_answered(
    floor_a: Floor, account: TwilioAccount, final: str, status: str
) -> None:
    records = assert_same_every_way(
        scenarios.outbound_call(floor_a.agent.extension, final), keep_first=False
    )
    [call] = records["calls"]
    assert (call["status"], call["outcome"], call["answered"]) == (status, status, None)
    assert call["ended"] == at(30)


def test_inbound_queue_call_with_the_voice_request_shuffled_too(
    floor_a: Floor, account: TwilioAccount, queue: CallQueue
) -> None:
    assert_same_every_way(scenarios.inbound_queue_call(floor_a.agent.extension), keep_first=False)
