"""AMI fault drills: Asterisk restarted, and a half-open socket.

(A connection dropped at any point of a call is tests/telephony/ami/test_bridge_reconnect.py.)
Each drill runs the fixed workload of workload.py, injects the fault at a known
simulated moment, and compares the records with those of an uninterrupted run: calls
the fault did not touch are identical; a call the fault cut ends as the domain says
(``ended_while_disconnected``); a call the resync picked up finishes as it would have.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator
from tests.drills import workload as wl
from tests.drills.bridges import bridge_in_process, free_port
from tests.drills.reference import by_start, clean_records
from tests.drills.tcpproxy import HalfOpenProxy
from tests.telephony.conftest import START_EPOCH, fast_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.drill]


def _same_identity(got: dict[str, Any], want: dict[str, Any]) -> None:
    for field in ("status", "direction", "agent", "queue", "caller_number", "hangup_by"):
        assert got["fields"][field] == want["fields"][field], (field, got, want)


def _cut_by_the_fault(got: dict[str, Any], want: dict[str, Any], resync_at: Any) -> None:
    """A call that was answered when the fault hit and ended unseen: closed by the
    resync, at the resync's time at the latest (docs/telephony.md)."""
    _same_identity(
        {**got, "fields": {**got["fields"], "hangup_by": None}},
        {**want, "fields": {**want["fields"], "hangup_by": None}},
    )
    fields = got["fields"]
    assert fields["flags"].get("ended_while_disconnected") is True, fields
    assert fields["answered_at"] == want["fields"]["answered_at"]
    assert fields["answered_at"] <= fields["ended_at"] <= resync_at, fields


async def test_asterisk_restarted_mid_call() -> None:
    clean = by_start(await clean_records())
    port = free_port()
    first = AmiSimulator(fast_config(port=port))
    await first.start()
    second: AmiSimulator | None = None
    gate = wl.start_workload(first)
    try:
        async with bridge_in_process(port) as bridge:
            await wl.resynced(await first.next_session())
            gate.open_until(350)  # the third call (hold) is answered, its first hold over
            await gate.held()
            await bridge.synced()
            restart_at = first.clock.now()
            # Asterisk announces a restart, then its sockets close and its channels are gone.
            first.hub.publish(
                AmiMessage.of(("Event", "Shutdown"), ("Shutdown", "Cleanly"), ("Restart", "True"))
            )
            await first.stop()
            # It comes back a minute later (by its clock) with no call up.
            second = AmiSimulator(fast_config(port=port, start_epoch=START_EPOCH + 410))
            await second.start()
            await wl.resynced(await asyncio.wait_for(second.next_session(), 30))
            await wl.until(_resyncs(bridge, 2), what="the resync after the restart")
            await bridge.synced()
            # Calls on the restarted PBX are recorded as usual.
            await asyncio.wait_for(second.run_scenario("answered").wait(), 30)
            await bridge.synced()
            assert bridge.stats.connects == 2
            got = by_start(await sync_to_async(wl.records)(bridge.target.organization_id))
    finally:
        await first.stop()
        if second is not None:
            await second.stop()

    assert len(got) == 4, [key for key, _ in got]
    # The calls over before the restart are as in the uninterrupted run.
    assert got[:2] == clean[:2]
    fault_at = _at(restart_at)
    _cut_by_the_fault(got[2][1], clean[2][1], fault_at)
    assert got[2][1]["fields"]["status"] == "completed"
    # The call on the restarted PBX: a new call, the same shape as the first one.
    new_key, new = got[3]
    assert new_key not in dict(clean)
    _same_identity(new, clean[0][1])
    assert wl.started(new) > fault_at
    assert new["fields"]["flags"] == clean[0][1]["fields"]["flags"] and new["resynced"] == 0
    want = clean[0][1]["fields"]
    for field in ("wait_seconds", "talk_seconds", "hold_seconds"):
        assert new["fields"][field] == want[field], field


async def test_half_open_socket_is_noticed_and_resynced() -> None:
    clean = by_start(await clean_records())
    async with AmiSimulator(fast_config()) as simulator, HalfOpenProxy(simulator.port) as proxy:
        gate = wl.start_workload(simulator)
        async with bridge_in_process(proxy.port) as bridge:
            await wl.resynced(await simulator.next_session())
            gate.open_until(350)  # the hold call is answered, its first hold over
            await gate.held()
            await bridge.synced()
            fault_at = _at(simulator.clock.now())
            proxy.freeze()
            # The PBX goes on meanwhile: the hold call ends and the next call (blind
            # transfer) is answered, all unseen by the bridge.
            gate.open_until(540)
            await gate.held()
            resync_at = _at(simulator.clock.now())
            # Nothing tells the bridge but its unanswered Ping: it drops the socket,
            # reconnects (through the proxy, to a working connection) and resyncs.
            await wl.resynced(await asyncio.wait_for(simulator.next_session(), 30))
            await wl.until(_resyncs(bridge, 2), what="the resync after the reconnect")
            await bridge.synced()
            gate.open_until(None)
            assert simulator.agenda is not None
            await asyncio.wait_for(simulator.agenda.wait_idle(), 30)
            await bridge.synced()
            assert bridge.stats.connects == 2
            got = by_start(await sync_to_async(wl.records)(bridge.target.organization_id))

    assert [key for key, _ in got] == [key for key, _ in clean]
    assert got[:2] == clean[:2]
    _cut_by_the_fault(got[2][1], clean[2][1], resync_at)
    assert got[2][1]["fields"]["ended_at"] > fault_at  # it was not closed before the fault
    # The blind-transfer call, picked up by the resync while talking, then seen live.
    picked, want = got[3][1], clean[3][1]
    _same_identity(picked, want)
    assert picked["resynced"] == 1
    assert picked["fields"]["ended_at"] == want["fields"]["ended_at"]
    assert picked["transfers"] == want["transfers"]
    flags = picked["fields"]["flags"]
    if not {"answered_at_unknown", "answered_at_derived"} & set(flags):
        assert picked["fields"]["answered_at"] == want["fields"]["answered_at"]
    # Everything after is exactly as in the uninterrupted run.
    assert got[4:] == clean[4:]


def _resyncs(bridge: Any, count: int) -> Any:
    async def check() -> bool:
        return bool(bridge.stats.resyncs >= count)

    return check


def _at(usec: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(usec / 1_000_000, tz=UTC) + timedelta(microseconds=0)
