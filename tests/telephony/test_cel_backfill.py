"""The PBX's own logs rebuild the calls the AMI path stores (telephony/cel/).

The drills' workload (every kind of call) is played on the simulator with its CEL writer
on. With no bridge at all, the backfill reads the CEL and queue_log rows and applies
them: each call equals the uninterrupted AMI run's in what the logs tell (times to the
microsecond, outcome, agent, queue, talk time). Then again, and with every row written
twice: nothing changes. A call AMI stored already is not touched by its rows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import Agent
from contactcenter.services.telephony import telephony_apply
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.cel_writer import CelWriter
from telephony.cel.backfill import Backfill, backfill
from tests.drills import workload as wl
from tests.drills.reference import Records, by_start, clean_records
from tests.telephony.bridge_harness import CONNECTION, demo_organization
from tests.telephony.conftest import fast_config
from tests.telephony.pbxlogs import PbxLogs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]

# What CEL and queue_log tell of a call (not hold times: CEL has no hold events).
LOGGED = (
    "status",
    "direction",
    "agent",
    "queue",
    "caller_number",
    "started_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
)


async def _play_workload(logs: PbxLogs) -> datetime:
    """The workload on the simulator with its logs written; the PBX's clock at the end."""
    async with AmiSimulator(fast_config()) as simulator:
        writer = CelWriter(logs.dsn)
        writer.attach(simulator.pbx)
        gate = wl.start_workload(simulator)
        gate.open_until(None)
        assert simulator.agenda is not None
        await asyncio.wait_for(simulator.agenda.wait_idle(), 30)
        await writer.close()
        return datetime.fromtimestamp(simulator.clock.now() / 1e6).astimezone()


def _interfaces(org_id: int) -> set[str]:
    return set(Agent.objects.filter(organization_id=org_id).values_list("interface", flat=True))


async def _backfill(logs: PbxLogs, org_id: int, until: datetime) -> Backfill:
    agents = await sync_to_async(_interfaces)(org_id)
    found = await backfill(
        logs.source,
        organization_id=org_id,
        connection_key=CONNECTION,
        until=until,
        is_agent=agents.__contains__,
    )
    if found.facts:
        await sync_to_async(telephony_apply)(
            organization_id=org_id, connection_key=CONNECTION, events=found.facts
        )
    return found


def _logged(records: Records) -> dict[str, dict[str, Any]]:
    return {key: {f: call["fields"][f] for f in LOGGED} for key, call in by_start(records)}


async def test_the_logs_alone_rebuild_every_call_and_a_second_read_changes_nothing(
    pbx_logs: PbxLogs,
) -> None:
    clean = await clean_records()
    org_id = await demo_organization()
    until = await _play_workload(pbx_logs)

    first = await _backfill(pbx_logs, org_id, until)
    got = await sync_to_async(wl.records)(org_id)
    assert first.calls_created == len(got) == wl.CALLS
    assert _logged(got) == _logged(clean)
    for key, call in got.items():
        assert call["fields"]["flags"].get("ended_while_disconnected") is None, key
    rows = await sync_to_async(wl.event_rows)(org_id)

    # Read again, and every row written twice (a log backend that retried): nothing moves.
    pbx_logs.execute(
        "INSERT INTO cel (eventtype, eventtime, cid_name, cid_num, cid_dnid, exten, context,"
        " channame, uniqueid, linkedid, peer, extra) SELECT eventtype, eventtime, cid_name,"
        " cid_num, cid_dnid, exten, context, channame, uniqueid, linkedid, peer, extra FROM cel"
    )
    pbx_logs.execute(
        "INSERT INTO queue_log (time, callid, queuename, agent, event, data1, data2, data3,"
        " data4, data5) SELECT time, callid, queuename, agent, event, data1, data2, data3,"
        " data4, data5 FROM queue_log"
    )
    await _backfill(pbx_logs, org_id, until)
    assert await sync_to_async(wl.records)(org_id) == got
    assert await sync_to_async(wl.event_rows)(org_id) == rows
