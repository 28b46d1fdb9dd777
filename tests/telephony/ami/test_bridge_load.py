"""A sustained simulator load through the bridge: every call closed, every event stored.

Runs LOAD_TEST_SECONDS (default 60) of realistic calls (the simulator's default mix:
answered, abandoned, ring-no-answer, holds, blind and attended transfers, click-to-call)
with the dialplan noise on, then compares what the simulator reports it sent with what
the database holds, event type by event type. The rate reached is printed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from contactcenter.models import Call, CallEvent, CallTransfer
from contactcenter.transitions import ACTIVE_CALL_STATUSES
from telephony.ami.simulator import AmiSimulator, LoadConfig
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import fast_config

SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))
RATE = float(os.environ.get("LOAD_TEST_EVENTS_PER_SECOND", "1000"))

# AMI event sent -> the timeline entry it must leave, one for one.
ONE_FOR_ONE = {
    "QueueCallerJoin": "queue.joined",
    "QueueCallerLeave": "queue.left",
    "QueueCallerAbandon": "queue.abandoned",
    "AgentComplete": "agent.completed",
    "Hold": "call.held",
}


@pytest.mark.django_db(transaction=True)
async def test_sustained_load_stores_every_event_and_closes_every_call() -> None:
    async with AmiSimulator(fast_config(speed=None, seed=11)) as simulator:
        async with running_bridge(simulator) as running:
            session = await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.wait_for(session.authenticated.wait(), 10)
            await running.bridge.synced()
            started = time.monotonic()
            load = simulator.start_load(
                LoadConfig(events_per_second=RATE, duration=SECONDS, seed=11)
            )
            report = await asyncio.wait_for(load.wait(), SECONDS + 120)
            await running.bridge.synced(timeout=120)
            elapsed = time.monotonic() - started
        stats = running.bridge.stats

    def stored() -> tuple[int, int, Counter[str], Counter[str]]:
        org = running.organization_id
        calls = Call.objects.filter(organization_id=org)
        still_open = calls.filter(status__in=ACTIVE_CALL_STATUSES).count()
        types = Counter(
            CallEvent.objects.filter(organization_id=org).values_list("type", flat=True)
        )
        total = calls.count()
        transfers = Counter(
            CallTransfer.objects.filter(organization_id=org).values_list("status", flat=True)
        )
        connections.close_all()
        return total, still_open, types, transfers

    total, still_open, types, transfers = await sync_to_async(stored)()
    sent = report.events_by_type
    print(
        f"\nload: {report.calls} calls, {report.events} AMI events in {report.elapsed:.1f}s "
        f"({report.events_per_second:.0f} events/s sent); all stored {elapsed:.1f}s after the "
        f"start ({report.events / elapsed:.0f} events/s end to end); "
        f"{stats.facts_applied} facts in {stats.batches} batches"
    )
    assert stats.connects == 1 and stats.translate_errors == 0
    assert total == report.calls
    assert still_open == 0
    assert types["call.created"] == types["call.ended"] == report.calls
    for ami, entry in ONE_FOR_ONE.items():
        assert types[entry] == sent.get(ami, 0), (ami, entry)
    # An attended transfer's consultation leg, never held, sends an Unhold too: no resume.
    assert types["call.resumed"] == sent.get("Unhold", 0) - sent.get("AttendedTransfer", 0)
    # One transfer per transfer event, each settled once its call ended: a blind transfer
    # is completed or failed by what its target did, never left ringing.
    assert transfers.total() == sent.get("BlindTransfer", 0) + sent.get("AttendedTransfer", 0)
    assert set(transfers) <= {"completed", "failed"}, transfers
    assert types["call.answered"] >= sent.get("AgentConnect", 0)
    assert types["agent.ring_no_answer"] >= sent.get("AgentRingNoAnswer", 0)
