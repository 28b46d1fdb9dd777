"""A fixed call workload on the AMI simulator, a gate to stop it at a chosen moment,
and the records it leaves, in a form two runs can be compared with.

The simulator runs as fast as possible (``speed=None``): its clock moves only from one
scheduled step to the next, so every run of the workload emits the same events with
the same timestamps and Uniqueids. The gate holds the simulated PBX still at a chosen
simulated time, so a fault can be injected exactly between two known events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from contactcenter.models import Call, CallEvent, CallTransfer
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.catalog import scenario
from telephony.ami.simulator.clock import USEC
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from telephony.ami.simulator.session import AmiSession

# (simulated seconds after the start, scenario): one call at a time, each agent free again
# before the next needs them.
SCHEDULE: tuple[tuple[float, str], ...] = (
    (0, "answered"),  # 1001, ends ~126 s
    (200, "abandoned"),  # ends ~228 s
    (300, "hold"),  # 1002 answers at 308, on hold 339.6-369.9, ends ~460 s
    (500, "blind_transfer"),  # 1001 answers at 505, transfers at 550, ends ~620 s
    (700, "attended_transfer"),  # ends ~790 s
    (850, "ring_no_answer"),  # ends ~940 s
    (1000, "click_to_call"),  # ends ~1111 s
)
# Last of all: when this call is stored as ended, everything before it is stored too
# (the bridge applies events in arrival order).
SENTINEL_NUMBER = "+15550000000"
SENTINEL_AT = 1300.0
SENTINEL = InboundPlan(SENTINEL_NUMBER, agents=("1003",), answer_after=30.0, patience=5.0)
CALLS = len(SCHEDULE) + 1
# The status tests/telephony/transcripts/expected_outcomes.json gives each kind of call,
# in start order.
STATUSES = (
    "completed",  # 01 answered
    "abandoned",  # 02 abandoned
    "completed",  # 05 hold
    "completed",  # 03 blind transfer
    "completed",  # 04 attended transfer
    "completed",  # 08 ring no answer, then answered
    "completed",  # 06 click-to-call, answered
    "abandoned",  # the sentinel
)


class Gate:
    """Holds the simulator's agenda once its clock reaches ``at`` (simulated seconds
    after the start); ``None`` lets everything run. It starts closed."""

    def __init__(self, simulator: AmiSimulator) -> None:
        assert simulator.agenda is not None
        self._clock = simulator.clock
        self._start = simulator.clock.now()
        self._at: int | None = self._start - 1
        self._held = asyncio.Event()
        simulator.agenda.throttle = self._hold

    def open_until(self, seconds: float | None) -> None:
        self._held.clear()
        self._at = None if seconds is None else self._start + round(seconds * USEC)

    async def held(self, timeout: float = 30) -> None:
        """Until the agenda stands at the gate (nothing more will be emitted)."""
        await asyncio.wait_for(self._held.wait(), timeout)

    def _hold(self) -> float:
        if self._at is not None and self._clock.now() >= self._at:
            self._held.set()
            return 0.01  # the agenda looks again in 10 ms: the simulator's own pacing
        return 0.0


def start_workload(simulator: AmiSimulator) -> Gate:
    """Schedule the workload (it waits behind a closed gate) and return the gate."""
    agenda = simulator.agenda
    assert agenda is not None
    gate = Gate(simulator)
    for offset, name in SCHEDULE:
        agenda.spawn(scenario(name)(simulator.pbx), delay=offset, name=name)
    agenda.spawn(inbound_call(simulator.pbx, SENTINEL), delay=SENTINEL_AT, name="sentinel")
    return gate


async def resynced(session: AmiSession, count: int = 1) -> None:
    """Until the simulator has answered the bridge's ``count``-th resync on ``session``.

    The simulator writes an action's replies in the same step as it records the action,
    so once QueueSummary (the last of the three) is recorded, the whole snapshot is on
    the socket, ahead of any event emitted later.
    """
    await asyncio.wait_for(session.bound_action_id(("queuesummary", count)), 30)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60, what: str = "") -> None:
    """Until ``await check()`` holds: for state another task or process changes."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


def forget_calls() -> None:
    """Drop the calls of an earlier run in the same test (their ids would come again)."""
    Call.objects.all().delete()


def sentinel_stored(organization_id: int) -> bool:
    return Call.objects.filter(
        organization_id=organization_id, caller_number=SENTINEL_NUMBER, ended_at__isnull=False
    ).exists()


Row = tuple[Any, ...]


def _ext(agent: Any) -> str | None:
    return agent.extension if agent is not None else None


def records(organization_id: int) -> dict[str, dict[str, Any]]:
    """Every call of the organization, by external id: its fields, its timeline (resync
    markers apart) and its transfers."""
    out: dict[str, dict[str, Any]] = {}
    calls = Call.objects.filter(organization_id=organization_id).select_related("agent", "queue")
    for call in calls:
        events = CallEvent.objects.filter(call=call).select_related("agent")
        transfers = CallTransfer.objects.filter(call=call).select_related("from_agent", "to_agent")
        out[call.external_id] = {
            "fields": {
                "status": call.status,
                "direction": call.direction,
                "agent": _ext(call.agent),
                "queue": call.queue.pbx_queue_name if call.queue else None,
                "caller_number": call.caller_number,
                "caller_name": call.caller_name,
                "callee_number": call.callee_number,
                "hangup_by": call.hangup_by,
                "started_at": call.started_at,
                "queued_at": call.queued_at,
                "answered_at": call.answered_at,
                "ended_at": call.ended_at,
                "wait_seconds": call.wait_seconds,
                "talk_seconds": call.talk_seconds,
                "hold_seconds": call.hold_seconds,
                "flags": dict(call.flags),
            },
            "events": sorted(
                (e.occurred_at, e.type, _ext(e.agent) or "")
                for e in events
                if e.type != "call.resynced"
            ),
            "resynced": sum(1 for e in events if e.type == "call.resynced"),
            "transfers": sorted(
                (
                    t.requested_at,
                    t.kind,
                    t.status,
                    _ext(t.from_agent) or "",
                    t.to_number,
                    _ext(t.to_agent),
                    t.answered_at,
                )
                for t in transfers
            ),
        }
    return out


def event_rows(organization_id: int) -> list[Row]:
    """Every timeline row (duplicates would show twice)."""
    return sorted(
        CallEvent.objects.filter(organization_id=organization_id).values_list(
            "call__external_id", "type", "occurred_at"
        )
    )


def started(call: dict[str, Any]) -> datetime:
    value = call["fields"]["started_at"]
    assert isinstance(value, datetime)
    return value
