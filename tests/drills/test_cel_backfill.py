"""Nothing lost across a bridge outage: the PBX's CEL fills what AMI could not replay.

Random calls on the simulator (about two a second, each a few seconds long at the
simulator's speed), which logs CEL, queue_log and CDR rows as Asterisk does
(telephony/ami/simulator/cel_writer.py) into a database of its own. The ``run_bridge``
process reads them after every reconnect (CEL_DATABASE_URL). Two faults:

* the bridge SIGKILLed and down for 10 s, then started again: calls begin and end
  while nobody listens, others end unseen;
* PostgreSQL unreachable for the bridge for 20 s, the bridge holding what it received
  killed meanwhile: only the PBX's logs still have those calls.

The logs reach their database 2 s late (a buffering backend): the backfill's second
read of its window, 5 s after the reconnect, finds what the first missed.

Then every call the simulator placed (one CDR each) is stored once, ended, with the end
time and hangup cause of its last CEL HANGUP to the microsecond, none open, no
timeline entry twice; the bridge's log is printed on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import Call, CallEvent
from contactcenter.services.telephony.derive import whole_seconds
from telephony.ami.simulator import AmiSimulator, SimulatorConfig
from telephony.ami.simulator.cel_writer import CelWriter
from telephony.ami.simulator.load import LoadConfig, LoadGenerator
from tests.drills import workload as wl
from tests.drills.bridges import BridgeProcess
from tests.drills.database import allow_connections, cut_connections
from tests.telephony.bridge_harness import demo_organization
from tests.telephony.conftest import SECRET
from tests.telephony.pbxlogs import PbxLogs, pbx_log_database

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.drill,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the processes share PostgreSQL"),
]

SPEED = 5.0  # simulated seconds per real second
LOAD = LoadConfig(
    calls_per_second=2.0, duration=30, seed=27, talk=(10.0, 40.0), patience=(10.0, 40.0)
)


@dataclass
class Run:
    simulator: AmiSimulator
    bridge: BridgeProcess
    load: LoadGenerator
    logs: PbxLogs
    writer: CelWriter
    organization_id: int

    async def reconnected(self) -> None:
        """Until the bridge is logged in again and its snapshot is on the socket."""
        session = await asyncio.wait_for(self.simulator.next_session(), 60)
        await wl.resynced(session)

    def failed(self, message: str) -> AssertionError:
        return AssertionError(f"{message}\n--- bridge log ---\n{self.bridge.output()[-6000:]}")


@contextlib.asynccontextmanager
async def _running(tmp_path: Path) -> AsyncIterator[Run]:
    org_id = await demo_organization()
    with pbx_log_database() as logs:
        config = SimulatorConfig(port=0, secret=SECRET, speed=SPEED)
        async with AmiSimulator(config) as simulator:
            # Rows reach the log database 2 s late, as from a buffering backend: the
            # backfill's second read of its window finds them.
            writer = CelWriter(logs.dsn, delay=2.0)
            writer.attach(simulator.pbx)
            bridge = BridgeProcess(
                simulator.port,
                tmp_path / "bridge.log",
                CEL_DATABASE_URL=logs.dsn,
                CEL_BACKFILL_RECHECK_SECONDS="5",
            )
            bridge.start()
            try:
                run = Run(simulator, bridge, None, logs, writer, org_id)  # type: ignore[arg-type]
                await run.reconnected()
                run.load = simulator.start_load(LOAD)
                await wl.until(lambda: _placed(run.load, 10), what="the first calls placed")
                yield run
            finally:
                await writer.close()
                code = bridge.stop()
                assert code in (0, None, -9), bridge.output()[-3000:]


async def _placed(load: LoadGenerator, count: int) -> bool:
    return load.calls >= count


def _logged_ends(logs: PbxLogs) -> dict[str, tuple[datetime, int]]:
    """Each call the simulator placed (its CDR) -> the end time and hangup cause of its
    last channel, from the CEL: the HANGUP at the moment of its LINKEDID_END."""
    ends = {
        linkedid: (at.replace(tzinfo=UTC), int(cause))
        for linkedid, at, cause in logs.rows(
            "SELECT e.linkedid, e.eventtime, (h.extra::json ->> 'hangupcause')"
            " FROM cel e JOIN cel h ON h.linkedid = e.linkedid AND h.eventtime = e.eventtime"
            " AND h.eventtype = 'HANGUP' WHERE e.eventtype = 'LINKEDID_END'"
        )
    }
    placed = {linkedid for (linkedid,) in logs.rows("SELECT linkedid FROM cdr")}
    return {key: ends[key] for key in placed}


def _stored(organization_id: int) -> dict[str, Any]:
    calls = list(Call.objects.filter(organization_id=organization_id))
    entries = list(
        CallEvent.objects.filter(organization_id=organization_id).values_list(
            "call_id", "type", "occurred_at", "dedup_key"
        )
    )
    return {"calls": calls, "entries": entries}


async def _all_stored(run: Run, ends: dict[str, tuple[datetime, int]]) -> bool:
    def check() -> bool:
        done = Call.objects.filter(
            organization_id=run.organization_id, external_id__in=list(ends), ended_at__isnull=False
        ).exclude(flags__has_key="ended_while_disconnected")
        return done.count() == len(ends)

    return await sync_to_async(check)()


async def _check(run: Run) -> dict[str, int]:
    ends = await sync_to_async(_logged_ends)(run.logs)
    await wl.until(
        lambda: _all_stored(run, ends),
        timeout=120,
        what=f"every logged call stored with its real end\n{run.bridge.output()[-4000:]}",
    )
    stored = await sync_to_async(_stored)(run.organization_id)
    calls: list[Call] = stored["calls"]
    by_key: dict[str, list[Call]] = {}
    for call in calls:
        by_key.setdefault(call.external_id, []).append(call)
    problems = []
    for key, (end, cause) in sorted(ends.items()):
        found = by_key.get(key, [])
        if len(found) != 1:
            problems.append(f"{key}: stored {len(found)} times")
            continue
        call = found[0]
        if (call.ended_at, call.hangup_cause) != (end, cause):
            problems.append(
                f"{key}: ended {call.ended_at} cause {call.hangup_cause}, logged {end} {cause}"
            )
        if "ended_while_disconnected" in call.flags:
            problems.append(f"{key}: still flagged {call.flags}")
        # Talk time to that end, and no hold longer than the call.
        if call.answered_at is not None and call.talk_seconds != whole_seconds(
            call.answered_at, end
        ):
            problems.append(f"{key}: talk {call.talk_seconds} s, answered {call.answered_at}")
        if call.hold_seconds > (call.talk_seconds or 0):
            problems.append(f"{key}: hold {call.hold_seconds} s, talk {call.talk_seconds} s")
    still_open = [c.external_id for c in calls if c.ended_at is None and c.external_id in ends]
    if still_open:
        problems.append(f"open: {still_open}")
    entries = stored["entries"]
    once = {
        (call_id, kind) for call_id, kind, _, _ in entries if kind in ("call.created", "call.ended")
    }
    twice = len([e for e in entries if e[1] in ("call.created", "call.ended")]) - len(once)
    if twice:
        problems.append(f"{twice} call.created/call.ended entries twice")
    keys = [dedup for _, _, _, dedup in entries]
    if len(keys) != len(set(keys)):
        problems.append("a timeline entry stored twice")
    if problems:
        raise run.failed("; ".join(problems[:20]))
    return {
        "calls": len(ends),
        "resynced": sum(1 for _, kind, _, _ in entries if kind == "call.resynced"),
    }


async def _drill(tmp_path: Path, fault: Callable[[Run], Awaitable[None]]) -> str:
    async with _running(tmp_path) as run:
        await fault(run)
        await run.load.wait()  # the calls still up are played to their end
        await run.writer.flushed()
        await _check(run)
        if "Traceback" in run.bridge.output():
            raise run.failed("the bridge logged a traceback")
        return run.bridge.output()


async def _sigkill_for_10_seconds(run: Run) -> None:
    run.bridge.kill()
    await asyncio.sleep(10)  # the outage itself: calls go on with nobody listening
    run.bridge.start()
    await run.reconnected()


def _backfilled(log: str) -> tuple[int, int]:
    """Calls the bridge's backfills created, and resync-closed calls they completed."""
    found = [re.search(_BACKFILLED, line) for line in log.splitlines()]
    counts = [(int(m["created"]), int(m["completed"])) for m in found if m is not None]
    assert counts, log[-3000:]
    return sum(c for c, _ in counts), sum(c for _, c in counts)


_BACKFILLED = r"CEL backfill .* (?P<created>\d+) calls created, (?P<completed>\d+) completed"


async def test_bridge_sigkilled_for_10_s_under_load_loses_no_call(tmp_path: Path) -> None:
    log = await _drill(tmp_path, _sigkill_for_10_seconds)
    # The PBX's logs had calls only they knew of (created from the CEL), and the real end
    # of calls the resync had closed at its own time (completed).
    created, completed = _backfilled(log)
    assert created > 0 and completed > 0, (created, completed)


async def _database_away_for_20_seconds(run: Run) -> None:
    cut = await sync_to_async(cut_connections)(run.bridge.app_name)
    assert cut >= 1, "the bridge process had no database session to cut"
    try:
        await asyncio.sleep(10)  # the outage: the bridge holds what it receives...
        run.bridge.kill()  # ... and loses it all
        await asyncio.sleep(10)
    finally:
        await sync_to_async(allow_connections)(True)
    run.bridge.start()
    await run.reconnected()


async def test_database_unreachable_for_20_s_under_load_loses_no_call(tmp_path: Path) -> None:
    """The bridge held 10 s of events for a database that did not answer, then was
    killed: only the PBX's logs still have them."""
    log = await _drill(tmp_path, _database_away_for_20_seconds)
    assert "database unavailable" in log
    created, completed = _backfilled(log)
    assert created > 0 and completed > 0, (created, completed)
