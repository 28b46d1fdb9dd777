"""Dropping the AMI connection in the middle of a call: after the reconnect and resync
the records end as an uninterrupted run's, times the gap hid aside (and flagged).

The simulator's PBX model plays one call at 20x real time; its first connection is
cut after the K-th event, for K across the call's life.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from contactcenter.models import Call
from telephony.ami.simulator import AmiSimulator, ConnectionPlan, InboundPlan
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import fast_config

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = InboundPlan(
    "+15557654321",
    "JOHN SMITH",
    agents=("1001",),
    answer_after=6.0,
    talk=40.0,
    holds=((10.0, 8.0),),
    hangup_by="agent",
)
SPEED = 20.0
TOLERANCE = timedelta(seconds=1.5)  # the model's clock follows real time, scaled


async def _run(drop_after: int | None) -> dict[str, Any]:
    await sync_to_async(lambda: Call.objects.all().delete())()
    async with AmiSimulator(fast_config(speed=SPEED, dialplan_events=False)) as simulator:
        simulator.expect_connection(ConnectionPlan(drop_after_events=drop_after))
        if drop_after is not None:
            simulator.expect_connection(ConnectionPlan())
        async with running_bridge(simulator) as running:
            first = await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.wait_for(first.authenticated.wait(), 10)
            await running.bridge.synced()
            await asyncio.wait_for(simulator.start_call(PLAN).wait(), 30)
            await asyncio.wait_for(running.bridge.connected.wait(), 10)
            await running.bridge.synced()
        connects = running.bridge.stats.connects
        org_id = running.organization_id

    def record() -> dict[str, Any]:
        call = Call.objects.select_related("agent", "queue").get(organization_id=org_id)
        connections.close_all()
        return {
            "call": call,
            "same": (
                call.status,
                call.direction,
                call.agent.extension if call.agent else None,
                call.queue.pbx_queue_name if call.queue else None,
                call.caller_number,
                call.caller_name,
                call.hangup_by,
            ),
            "connects": connects,
        }

    return await sync_to_async(record)()


_CLEAN: dict[str, dict[str, Any]] = {}


def _close(a: timedelta, b: timedelta) -> bool:
    return abs(a - b) <= TOLERANCE


@pytest.mark.parametrize("drop_after", [2, 6, 9, 14, 18, 24])
async def test_a_drop_anywhere_ends_in_the_same_records(drop_after: int) -> None:
    if "clean" not in _CLEAN:  # the uninterrupted run, once for all drop points
        _CLEAN["clean"] = await _run(None)
    clean = _CLEAN["clean"]
    dropped = await _run(drop_after)
    assert dropped["connects"] >= 2, "the drill did not drop the connection"
    assert dropped["same"] == clean["same"]
    want, got = clean["call"], dropped["call"]
    assert want.status == "completed" and want.hold_seconds == 8
    # The model's clock starts with the simulator, so compare times from each call's start.
    assert _close(got.ended_at - got.started_at, want.ended_at - want.started_at)
    assert got.wait_seconds == want.wait_seconds
    # What a resync cannot see is flagged, never guessed silently.
    if "answered_at_derived" in got.flags or "answered_at_unknown" in got.flags:
        assert got.talk_seconds in (None, want.talk_seconds, want.talk_seconds + 1)
    else:
        assert _close(got.answered_at - got.started_at, want.answered_at - want.started_at)
        assert abs((got.talk_seconds or 0) - (want.talk_seconds or 0)) <= 1
