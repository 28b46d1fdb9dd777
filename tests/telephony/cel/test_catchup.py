"""The bridge's own backfill after a reconnect (telephony/cel/catchup.py), in one process.

The drills' workload on the simulator, its CEL and queue_log rows logged, through a
bridge that reads them. The bridge stops in the middle of a call (answered, on hold)
and is away while that call ends and two more begin and end; then a new bridge logs in.
Its resync closes the first call at the resync's time with the estimate flagged; the
backfill it runs next gives that call its real end, cause and talk time and clears the
flag (the hold it was on counted to that end, not to the resync), and creates the two
calls it never saw with their true times. The records then equal the uninterrupted
run's in what the logs tell; a call that began in the outage and was still ringing at
the reconnect has the resync's start, to the second (its Uniqueid's).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import Call
from contactcenter.services.telephony.derive import whole_seconds
from telephony import metrics
from telephony.ami.bridge import AmiBridge
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.cel_writer import CelWriter
from tests.drills import workload as wl
from tests.drills.bridges import bridge_in_process
from tests.drills.reference import by_start, clean_records
from tests.telephony.conftest import fast_config
from tests.telephony.pbxlogs import LOGGED, PbxLogs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]

AWAY_FROM = 385  # simulated seconds: the hold call (from 300) on its second hold
BACK_AT = 800  # its end (~460), the blind (500-620) and attended (700-790) transfers: unseen


async def _backfilled(bridge: AmiBridge) -> bool:
    # Set together once the facts read are applied (the count of reads goes up before).
    return bridge.stats.cel_facts > 0


def _estimated(org_id: int) -> list[str]:
    return list(
        Call.objects.filter(
            organization_id=org_id, flags__has_key="ended_while_disconnected"
        ).values_list("external_id", flat=True)
    )


def _call(org_id: int, key: str) -> Call:
    return Call.objects.get(organization_id=org_id, external_id=key)


async def test_after_an_outage_the_backfill_ends_the_closed_call_and_creates_the_unseen(
    pbx_logs: PbxLogs, settings: Any
) -> None:
    settings.CEL_BACKFILL_RECHECK_SECONDS = 0
    clean = await clean_records()
    keys = [key for key, _ in by_start(clean)]
    on_hold, unseen, live = keys[2], keys[3:5], keys[5]
    async with AmiSimulator(fast_config()) as simulator:
        writer = CelWriter(pbx_logs.dsn)
        writer.attach(simulator.pbx)
        gate = wl.start_workload(simulator)
        async with bridge_in_process(simulator.port, cel=pbx_logs.source) as bridge:
            await wl.resynced(await simulator.next_session())
            gate.open_until(AWAY_FROM)
            await gate.held()
            await bridge.synced()
            org_id = bridge.target.organization_id
        assert (await sync_to_async(_call)(org_id, on_hold)).held_since is not None
        # Nobody listens: the held call ends, two calls begin and end.
        gate.open_until(BACK_AT)
        await gate.held()
        await writer.flushed()
        async with bridge_in_process(simulator.port, cel=pbx_logs.source) as bridge:
            await wl.until(lambda: _backfilled(bridge), what="the backfill after the resync")
            # The resync closed the held call with an estimate; the backfill repaired it.
            assert bridge.stats.cel_calls_completed == 1, bridge.stats
            assert bridge.stats.cel_calls_created == 2, bridge.stats
            assert await sync_to_async(_estimated)(org_id) == []
            gate.open_until(None)
            assert simulator.agenda is not None
            await asyncio.wait_for(simulator.agenda.wait_idle(), 30)
            await bridge.synced()
        await writer.close()
    got = await sync_to_async(wl.records)(org_id)
    assert sorted(got) == sorted(clean)
    for key in keys:
        want = {name: clean[key]["fields"][name] for name in LOGGED}
        have = {name: got[key]["fields"][name] for name in LOGGED}
        if key == live:
            have.pop("started_at"), want.pop("started_at")
        assert have == want, key
        assert "ended_while_disconnected" not in got[key]["fields"]["flags"], key
    for key in unseen:
        assert got[key]["resynced"] == 0, key  # told by the logs only, not by a resync
        assert got[key]["transfers"] == clean[key]["transfers"], key
    # The held call: its real cause; the hold open when the bridge went away ran, as far
    # as anyone knows (CEL has no hold events), to the real end, not to the resync.
    held = await sync_to_async(_call)(org_id, on_hold)
    assert held.hangup_cause == 16 and held.ended_at is not None
    first_hold, resumed, second_hold = [
        at for at, kind, _ in clean[on_hold]["events"] if kind in ("call.held", "call.resumed")
    ][:3]
    assert held.hold_seconds == whole_seconds(first_hold, resumed) + whole_seconds(
        second_hold, held.ended_at
    )
    assert held.held_since is None and "hold_open_at_close" not in held.flags


async def _refused(bridge: AmiBridge) -> bool:
    return bridge.stats.cel_errors > 0


def _ended_calls(org_id: int) -> int:
    return Call.objects.filter(organization_id=org_id, ended_at__isnull=False).count()


async def test_a_log_database_it_cannot_read_is_counted_and_the_bridge_goes_on(
    pbx_logs: PbxLogs, settings: Any
) -> None:
    """The backfill's read fails (here a table that is not there): logged, counted as
    ``cc_cel_errors_total``, nothing read; the live stream is stored as without a source."""
    settings.CEL_BACKFILL_RECHECK_SECONDS = 0
    unreadable = dataclasses.replace(pbx_logs.source, cel_table="no_such_table")
    simulator = AmiSimulator(fast_config())
    async with simulator, bridge_in_process(simulator.port, cel=unreadable) as bridge:
        await wl.until(lambda: _refused(bridge), what="the failed backfill counted")
        await simulator.run_scenario("answered").wait()
        await bridge.synced()
        collector = metrics.BridgeCollector()
        collector.watch(bridge)
        samples = {
            sample.name: sample.value
            for family in collector.collect()
            for sample in family.samples
            if family.name.startswith("cc_cel_")
        }
        org_id = bridge.target.organization_id
    assert samples["cc_cel_errors_total"] == 1.0, samples
    assert samples["cc_cel_backfills_total"] == samples["cc_cel_facts_total"] == 0.0, samples
    assert await sync_to_async(_ended_calls)(org_id) == 1
