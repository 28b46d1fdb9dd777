"""The uninterrupted run of the workload: the records every drill is compared with."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async

from telephony.ami.simulator import AmiSimulator
from tests.drills import workload as wl
from tests.drills.bridges import bridge_in_process
from tests.telephony.conftest import fast_config

Records = dict[str, dict[str, Any]]
# What a record says when a resync, not the live stream, told the bridge about a call.
RESYNC_FLAGS = {
    "started_at_unknown",
    "answered_at_unknown",
    "answered_at_derived",
    "ended_while_disconnected",
}
_CLEAN: dict[str, Records] = {}


async def play_through_bridge(simulator: AmiSimulator) -> int:
    """The whole workload on ``simulator`` through a bridge in this process, with no
    fault, until the bridge has stored all of it; the organization's id."""
    gate = wl.start_workload(simulator)
    async with bridge_in_process(simulator.port) as bridge:
        await wl.resynced(await simulator.next_session())
        gate.open_until(None)
        assert simulator.agenda is not None
        await asyncio.wait_for(simulator.agenda.wait_idle(), 30)
        await bridge.synced()
        return bridge.target.organization_id


async def clean_records() -> Records:
    """The workload through the bridge with no fault (run once per test session), checked
    against the outcomes the recorded transcripts (tests/telephony/transcripts) give each
    kind of call. The calls it
    wrote are deleted again: the drill that asked replays the same Uniqueids."""
    if "records" not in _CLEAN:
        async with AmiSimulator(fast_config()) as simulator:
            org_id = await play_through_bridge(simulator)
            _CLEAN["records"] = await sync_to_async(wl.records)(org_id)
        await sync_to_async(wl.forget_calls)()
    records = _CLEAN["records"]
    assert len(records) == wl.CALLS
    ordered = [call for _, call in by_start(records)]
    assert [call["fields"]["status"] for call in ordered] == list(wl.STATUSES)
    for call in ordered:
        assert call["resynced"] == 0 and not RESYNC_FLAGS & set(call["fields"]["flags"]), call
    return records


def by_start(records: Records) -> list[tuple[str, dict[str, Any]]]:
    return sorted(records.items(), key=lambda item: wl.started(item[1]))
