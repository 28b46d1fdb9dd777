"""The PBX's own logs rebuild the calls the AMI path stores (telephony/cel/).

The drills' workload (every kind of call) is played on the simulator with its CEL writer
on. With no bridge at all, the backfill reads the CEL and queue_log rows and applies
them: each call equals the uninterrupted AMI run's in what the logs tell (times to the
microsecond, outcome, agent, queue, talk time). Then again, and with every row written
twice: nothing changes. A call AMI stored already is not touched by its rows.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import Agent, Call, CallTransfer
from contactcenter.services.telephony import telephony_apply
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.cel_writer import CelWriter
from telephony.cel.backfill import Backfill, backfill
from tests.drills import workload as wl
from tests.drills.reference import Records, by_start, clean_records
from tests.telephony.bridge_harness import CONNECTION, demo_organization
from tests.telephony.conftest import fast_config
from tests.telephony.pbxlogs import LOGGED, PbxLogs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]


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
    """What the logs tell of each call: its fields, and its transfers (kind, parties,
    target number, answer)."""
    return {
        key: {**{f: call["fields"][f] for f in LOGGED}, "transfers": call["transfers"]}
        for key, call in by_start(records)
    }


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


_CEL_INSERT = (
    "INSERT INTO cel (eventtype, eventtime, cid_name, cid_num, exten, context, channame,"
    " uniqueid, linkedid, extra) VALUES (%s, %s, %s, %s, %s, 'from-trunk', %s, %s, %s, %s)"
)


async def test_odd_values_from_the_pbx_lose_their_tail_not_the_call(pbx_logs: PbxLogs) -> None:
    """A hostile or broken log database: an overlong caller name, extra that is not
    JSON, numbers out of range, a Linkedid no PBX writes, a queue_log whose times are
    dates. The call is stored with what can be stored; the rest is dropped at the edge."""
    org_id = await demo_organization()
    # Its tables are not Asterisk's to the letter: wider columns.
    pbx_logs.execute(
        "ALTER TABLE cel ALTER cid_name TYPE text, ALTER uniqueid TYPE text,"
        " ALTER linkedid TYPE text"
    )
    t0 = datetime(2026, 3, 1, 9, 0, 0, 123456)
    end = t0.replace(second=40)
    trunk, odd = "PJSIP/trunk-00000001", "L" * 200
    rows = [
        ("CHAN_START", t0, "N" * 500, "+15551234567", "+3120", trunk, "9.1", "9.1", ""),
        ("HANGUP", end, "", "", "", trunk, "9.1", "9.1", "{oops"),
        ("LINKEDID_END", end, "", "", "", "", "9.1", "9.1", ""),
        ("CHAN_START", t0, "x", "1", "2", "PJSIP/trunk-00000002", odd, odd, ""),
        ("HANGUP", end, "", "", "", "PJSIP/trunk-00000002", odd, odd, '{"hangupcause": 1e99}'),
    ]
    for row in rows:
        pbx_logs.execute(_CEL_INSERT, row)
    pbx_logs.execute(
        "INSERT INTO queue_log (time, callid, queuename, agent, event, data1, data2, data3)"
        " VALUES (%s, '9.1', 'support', 'NONE', 'ABANDON', '1', '1', '99999999999999999999')",
        [t0.replace(second=39)],
    )
    until = datetime(2026, 3, 1, 10, tzinfo=UTC)
    found = await _backfill(pbx_logs, org_id, until)
    assert found.calls_created == 1
    call = await sync_to_async(Call.objects.get)(organization_id=org_id)
    assert call.external_id == "9.1" and call.caller_name == "N" * 200
    assert call.ended_at == t0.replace(second=40, tzinfo=UTC)
    assert call.hangup_cause is None and call.status == "abandoned"
    assert call.wait_seconds is not None and call.wait_seconds < 60
    # Then its queue_log's times become dates (compared with ours, they read as days):
    # those rows tell nothing and are skipped, not the read; the CEL still has the call.
    await sync_to_async(call.delete)()
    pbx_logs.execute("ALTER TABLE queue_log ALTER time TYPE date")
    found = await _backfill(pbx_logs, org_id, until)
    assert found.calls_created == 1
    call = await sync_to_async(Call.objects.get)(organization_id=org_id)
    assert call.ended_at == t0.replace(second=40, tzinfo=UTC) and call.queue_id is None


async def test_a_blind_transfer_nobody_answers_is_failed_not_completed(
    pbx_logs: PbxLogs,
) -> None:
    """An agent blind-transfers the caller to 1002, whose phone rings unanswered until
    the caller hangs up. The logs say so as AMI does: the transfer failed (no answer),
    it did not complete at the moment it was asked for."""
    org_id = await demo_organization()
    t0 = datetime(2026, 3, 1, 9, 0, 0, 500000)
    trunk, agent, target = "PJSIP/trunk-00000007", "PJSIP/1001-00000008", "PJSIP/1002-00000009"
    blind = '{"extension": "1002", "context": "from-internal"}'
    ended = json.dumps({"hangupcause": 16, "hangupsource": trunk, "dialstatus": "NOANSWER"})
    rows = [
        ("CHAN_START", t0, "CALLER", "+15557654321", "+3120", trunk, "7.1", "7.1", ""),
        ("CHAN_START", t0 + timedelta(seconds=1), "", "", "1001", agent, "7.2", "7.1", ""),
        ("ANSWER", t0 + timedelta(seconds=3), "", "", "1001", agent, "7.2", "7.1", ""),
        ("BLINDTRANSFER", t0 + timedelta(seconds=20), "", "", "", agent, "7.2", "7.1", blind),
        ("HANGUP", t0 + timedelta(seconds=20), "", "", "", agent, "7.2", "7.1", ""),
        ("CHAN_START", t0 + timedelta(seconds=21), "", "", "1002", target, "7.3", "7.1", ""),
        ("HANGUP", t0 + timedelta(seconds=45), "", "", "", target, "7.3", "7.1", ""),
        (
            "HANGUP",
            t0 + timedelta(seconds=45, microseconds=7),
            "",
            "",
            "",
            trunk,
            "7.1",
            "7.1",
            ended,
        ),
        (
            "LINKEDID_END",
            t0 + timedelta(seconds=45, microseconds=7),
            "",
            "",
            "",
            "",
            "7.1",
            "7.1",
            "",
        ),
    ]
    for row in rows:
        pbx_logs.execute(_CEL_INSERT, row)
    found = await _backfill(pbx_logs, org_id, datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert found.calls_created == 1
    transfer = await sync_to_async(CallTransfer.objects.get)(call__external_id="7.1")
    assert (transfer.kind, transfer.status, transfer.to_number) == (
        "blind",
        "failed",
        "1002@from-internal",
    )
    assert transfer.details["reason"] == "no_answer" and transfer.completed_at is None
    call = await sync_to_async(Call.objects.get)(external_id="7.1")
    assert call.ended_at == (t0 + timedelta(seconds=45, microseconds=7)).replace(tzinfo=UTC)
    assert call.hangup_cause == 16 and call.status == "completed"
