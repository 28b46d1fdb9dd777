"""The nightly reconciliation (telephony/cel/reconcile.py) against the PBX's CDRs.

The drills' workload runs through the bridge with the simulator logging CEL, queue_log
and CDR rows. A day reconciled as stored finds nothing and changes nothing, also with a
row arriving late and twice. With a call lost and another closed by a resync with an
estimated end, it rebuilds the first and gives the second its real end, cause and talk
time, and reports both; a PBX database it cannot read is reported, not raised.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import Call, CallEvent, Organization
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.cel_writer import CelWriter
from telephony.cel.reconcile import Scope, reconcile_day
from telephony.models import CallLogReconciliation
from tests.drills import workload as wl
from tests.drills.reference import play_through_bridge
from tests.telephony.bridge_harness import CONNECTION
from tests.telephony.conftest import fast_config
from tests.telephony.pbxlogs import PbxLogs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]


async def _stored_with_logs(logs: PbxLogs) -> int:
    """The workload through the bridge (nothing missed), its logs written."""
    async with AmiSimulator(fast_config()) as simulator:
        writer = CelWriter(logs.dsn)
        writer.attach(simulator.pbx)
        org_id = await play_through_bridge(simulator)
        await writer.close()
        return org_id


def _day(organization_id: int) -> date:
    zone = ZoneInfo(Organization.objects.get(pk=organization_id).time_zone)
    first = Call.objects.filter(organization_id=organization_id).earliest("started_at")
    return first.started_at.astimezone(zone).date()


def _damage(organization_id: int) -> tuple[str, str]:
    """One call lost outright; another whose end AMI never delivered, closed by a resync
    at a later moment with the estimate flagged."""
    calls = sorted(Call.objects.filter(organization_id=organization_id), key=lambda c: c.started_at)
    lost, closed = calls[1], calls[0]  # the abandoned call; the answered one
    lost.delete()
    end = closed.ended_at
    assert end is not None and closed.answered_at is not None
    CallEvent.objects.filter(call=closed, occurred_at__gt=closed.answered_at).delete()
    closed.ended_at = end.replace(second=(end.second + 30) % 60)
    closed.hangup_cause, closed.hangup_cause_text, closed.hangup_by = None, "", ""
    closed.talk_seconds = 999
    closed.flags = {**closed.flags, "ended_while_disconnected": True}
    closed.save()
    return lost.external_id, closed.external_id


def _drift(organization_id: int) -> tuple[str, str]:
    """A call whose stored end is 5 s late (not flagged), and another to lose its CDR."""
    calls = sorted(Call.objects.filter(organization_id=organization_id), key=lambda c: c.started_at)
    drifted, unknown = calls[2], calls[3]
    assert drifted.ended_at is not None
    Call.objects.filter(pk=drifted.pk).update(ended_at=drifted.ended_at + timedelta(seconds=5))
    return drifted.external_id, unknown.external_id


async def test_reconciliation_finds_nothing_when_nothing_was_missed_then_repairs_what_was(
    pbx_logs: PbxLogs,
) -> None:
    org_id = await _stored_with_logs(pbx_logs)
    scope = Scope(org_id, CONNECTION, pbx_logs.source)
    day = await sync_to_async(_day)(org_id)
    before = await sync_to_async(wl.records)(org_id)
    rows_before = await sync_to_async(wl.event_rows)(org_id)

    # A row arriving late, and twice: a copy of the last HANGUP, written now.
    pbx_logs.execute(
        "INSERT INTO cel (eventtype, eventtime, cid_name, cid_num, cid_dnid, exten, context,"
        " channame, uniqueid, linkedid, peer, extra) SELECT eventtype, eventtime, cid_name,"
        " cid_num, cid_dnid, exten, context, channame, uniqueid, linkedid, peer, extra FROM cel"
        " WHERE eventtype = 'HANGUP' ORDER BY eventtime DESC LIMIT 1"
    )
    report = await sync_to_async(reconcile_day)(scope, day)
    assert (report.pbx_calls, report.stored_calls) == (wl.CALLS, wl.CALLS), report.details
    assert (report.missing, report.estimated, report.different, report.repaired) == (0, 0, 0, 0)
    assert report.unknown_to_pbx == 0 and not report.error
    assert await sync_to_async(wl.records)(org_id) == before
    assert await sync_to_async(wl.event_rows)(org_id) == rows_before

    lost, closed = await sync_to_async(_damage)(org_id)
    report = await sync_to_async(reconcile_day)(scope, day)
    assert (report.missing, report.estimated, report.repaired) == (1, 1, 2), report.details
    assert report.details["missing"] == [lost] and report.details["estimated"] == [closed]
    after = await sync_to_async(wl.records)(org_id)
    for key in (lost, closed):
        want, got = before[key]["fields"], after[key]["fields"]
        for name in ("status", "started_at", "answered_at", "ended_at", "talk_seconds", "agent"):
            assert got[name] == want[name], (key, name, got[name], want[name])
        assert "ended_while_disconnected" not in got["flags"]
    stored = await sync_to_async(Call.objects.get)(external_id=closed)
    assert stored.hangup_cause == 16
    # One report per connection and day: the rerun replaced it.
    assert await sync_to_async(CallLogReconciliation.objects.count)() == 1

    # Reported, never changed: a stored end 5 s from its CDR's, a stored call no CDR knows.
    drifted, unknown = await sync_to_async(_drift)(org_id)
    pbx_logs.execute("DELETE FROM cdr WHERE linkedid = %s", [unknown])
    report = await sync_to_async(reconcile_day)(scope, day)
    assert (report.different, report.unknown_to_pbx, report.repaired) == (1, 1, 0), report.details
    assert report.details == {"different": [drifted], "unknown": [unknown]}
    assert report.missing == report.estimated == 0 and report.pbx_calls == wl.CALLS - 1
    end = before[drifted]["fields"]["ended_at"] + timedelta(seconds=5)
    assert (await sync_to_async(Call.objects.get)(external_id=drifted)).ended_at == end


async def test_a_pbx_database_that_cannot_be_read_is_reported(pbx_logs: PbxLogs) -> None:
    org_id = await _stored_with_logs(pbx_logs)
    wrong = dataclasses.replace(pbx_logs.source, cel_table="no_such_table", cdr_table="nope")
    day = await sync_to_async(_day)(org_id)
    report = await sync_to_async(reconcile_day)(Scope(org_id, CONNECTION, wrong), day)
    assert "UndefinedTable" in report.error
    assert report.repaired == 0
