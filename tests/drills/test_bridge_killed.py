"""The bridge process killed with SIGKILL mid-stream and started again: after its
resync the records equal the uninterrupted run's.

The kill comes in the middle of a call (answered, its first hold over), once the
bridge has stored what it received: all it loses is what it held in memory (the legs
and calls it was tracking, its agent cache), which the new process must rebuild from
the resync. The call then finishes while the new process watches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from contactcenter.models import CallEvent
from tests.drills import workload as wl
from tests.drills.bridges import process_gone
from tests.drills.processes import bridge_process_drill
from tests.drills.reference import by_start, clean_records

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.drill,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the processes share PostgreSQL"),
]


def _resumed(organization_id: int) -> bool:
    return CallEvent.objects.filter(organization_id=organization_id, type="call.resumed").exists()


async def _all_gone(pids: set[int]) -> bool:
    return all(process_gone(pid) for pid in pids)


async def test_sigkill_mid_call_then_restart_leaves_the_uninterrupted_records(
    tmp_path: Path,
) -> None:
    clean = await clean_records()
    async with bridge_process_drill(tmp_path / "bridge.log") as drill:
        drill.gate.open_until(350)
        await drill.gate.held()
        org_id = drill.organization_id
        await wl.until(lambda: sync_to_async(_resumed)(org_id), what="the first hold stored")
        workers = drill.bridge.children()
        assert workers, "the bridge renders its messages in a worker process"
        drill.bridge.kill()
        # The worker ignores SIGINT/SIGTERM (its parent drains it); killed outright, the
        # parent cannot, and the worker must not outlive it.
        await wl.until(
            lambda: _all_gone(workers), timeout=30, what="the killed bridge's worker gone"
        )
        drill.bridge.start()
        await drill.connected()
        await drill.finish()
        got = await drill.records()
        rows = await sync_to_async(wl.event_rows)(org_id)

    # The call live at the kill was picked up by the new process's resync, once.
    live_key = by_start(clean)[2][0]
    assert got[live_key]["resynced"] == 1
    got[live_key]["resynced"] = 0
    assert got == clean
    assert len(rows) == 1 + sum(len(c["events"]) + c["resynced"] for c in clean.values())
    assert "Traceback" not in drill.bridge.output()
