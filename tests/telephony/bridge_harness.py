"""Running the real bridge against the simulator over TCP, for tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import connections

from provisioning.demo import seed_demo
from telephony.ami.bridge import AmiBridge, BridgeSettings
from telephony.ami.client import AmiEndpoint
from telephony.ami.simulator import AmiSimulator
from telephony.ami.targets import BridgeTarget

CONNECTION = "asterisk:test"
FAST = BridgeSettings(
    ping_interval=30.0, backoff_initial=0.05, backoff_max=0.2, resync_wait=0.2, action_timeout=10.0
)


@dataclass
class Running:
    bridge: AmiBridge
    organization_id: int


async def demo_organization() -> int:
    return await sync_to_async(lambda: seed_demo().organization.pk)()


@contextlib.asynccontextmanager
async def running_bridge(
    simulator: AmiSimulator,
    settings: BridgeSettings = FAST,
    secret: str = "",
    connection_key: str = CONNECTION,
) -> AsyncIterator[Running]:
    """A bridge logged in to ``simulator``; on exit it stops after applying what it got.
    ``connection_key``: a record's ("asterisk:<pk>") makes it the organization's command
    connection (the one that places callbacks)."""
    org_id = await demo_organization()
    endpoint = AmiEndpoint(
        host="127.0.0.1",
        port=simulator.port,
        username=simulator.config.username,
        secret=secret or simulator.config.secret,
    )
    # The test is the operator here: its simulator on loopback is its own choice.
    target = BridgeTarget(
        endpoint=endpoint, organization_id=org_id, connection_key=connection_key, trusted=True
    )
    bridge = AmiBridge(target, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        yield Running(bridge=bridge, organization_id=org_id)
        await asyncio.wait_for(bridge.drained(), 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        # The bridge's database thread keeps a connection; the test database must drop.
        await sync_to_async(connections.close_all)()


async def connect_once(target: BridgeTarget) -> AmiBridge:
    """Run a bridge for ``target`` until it has logged in once, then stop it."""
    bridge = AmiBridge(target, FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    await asyncio.wait_for(bridge.connected.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    await sync_to_async(connections.close_all)()
    return bridge
