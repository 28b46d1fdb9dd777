"""Running a drill against the ``run_bridge`` process on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from asgiref.sync import sync_to_async
from django.db import connection

from telephony.ami.simulator import AmiSimulator
from tests.drills import workload as wl
from tests.drills.bridges import BridgeProcess
from tests.telephony.bridge_harness import demo_organization
from tests.telephony.conftest import fast_config


@dataclass
class Drill:
    simulator: AmiSimulator
    gate: wl.Gate
    bridge: BridgeProcess
    organization_id: int

    async def connected(self, resyncs: int = 1) -> None:
        """Until the bridge process is logged in and its snapshot is on the socket."""
        session = await asyncio.wait_for(self.simulator.next_session(), 60)
        await wl.resynced(session, resyncs)

    async def finish(self) -> None:
        """Let the rest of the workload run; until the bridge has stored all of it."""
        self.gate.open_until(None)
        assert self.simulator.agenda is not None
        await asyncio.wait_for(self.simulator.agenda.wait_idle(), 30)
        org_id = self.organization_id
        await wl.until(
            lambda: sync_to_async(wl.sentinel_stored)(org_id),
            what=f"the last call in the database; bridge log:\n{self.bridge.output()[-3000:]}",
        )

    async def records(self) -> dict[str, dict[str, object]]:
        return await sync_to_async(wl.records)(self.organization_id)


@contextlib.asynccontextmanager
async def bridge_process_drill(log: Path, **env: str) -> AsyncIterator[Drill]:
    """The workload on the simulator (held at its start), the bridge process logged in."""
    assert connection.vendor == "postgresql"
    org_id = await demo_organization()
    async with AmiSimulator(fast_config()) as simulator:
        gate = wl.start_workload(simulator)
        bridge = BridgeProcess(simulator.port, log, **env)
        bridge.start()
        try:
            drill = Drill(simulator, gate, bridge, org_id)
            await drill.connected()
            yield drill
        finally:
            code = bridge.stop()
            assert code in (0, None, -9), bridge.output()[-3000:]
