"""PostgreSQL goes away under the bridge mid-stream and comes back: the bridge holds
what it receives meanwhile and writes it when the database returns; nothing lost,
nothing duplicated (the records equal the uninterrupted run's).

The shared server is not restarted: the outage is the test database's alone. It stops
taking connections (ALLOW_CONNECTIONS false) and the bridge process's sessions (found
by their application_name) are terminated, as a server restart would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from tests.drills import workload as wl
from tests.drills.database import allow_connections, cut_connections
from tests.drills.processes import bridge_process_drill
from tests.drills.reference import clean_records

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.drill,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL outage"),
]


async def test_the_bridge_holds_events_through_a_database_outage(tmp_path: Path) -> None:
    clean = await clean_records()
    async with bridge_process_drill(tmp_path / "bridge.log") as drill:
        drill.gate.open_until(350)
        await drill.gate.held()
        # The first calls must be in the database: then the bridge has a session to lose.
        await wl.until(lambda: sync_to_async(_calls)(drill.organization_id, 2), what="2 calls")
        try:
            cut = await sync_to_async(cut_connections)(drill.bridge.app_name)
            assert cut >= 1, "the bridge process had no database session to cut"
            # The rest of the stream arrives while the database is away...
            drill.gate.open_until(None)
            assert drill.simulator.agenda is not None
            await drill.simulator.agenda.wait_idle()
            # ... and the bridge has found out it cannot write.
            await wl.until(
                _logged(drill.bridge, "database unavailable"), what="the bridge to notice"
            )
            assert not await sync_to_async(wl.sentinel_stored)(drill.organization_id)
        finally:
            await sync_to_async(allow_connections)(True)
        await drill.finish()
        got = await drill.records()
        rows = await sync_to_async(wl.event_rows)(drill.organization_id)
    assert got == clean
    # Not one timeline row more than the uninterrupted run wrote.
    assert len(rows) == sum(len(call["events"]) + call["resynced"] for call in clean.values())
    assert "Traceback" not in drill.bridge.output()


def _calls(organization_id: int, count: int) -> bool:
    from contactcenter.models import Call

    return Call.objects.filter(organization_id=organization_id).count() >= count


def _logged(bridge: object, text: str) -> object:
    async def check() -> bool:
        return text in bridge.output()  # type: ignore[attr-defined]

    return check
