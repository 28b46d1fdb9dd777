"""Recorded calls through the simulator and the real bridge: a simulator in real time,
a second AMI client that hears what the bridge hears, and a call answered at phone 1001
that lasts an hour (the test hangs it up)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.bridge_harness import Running
from tests.telephony.conftest import SECRET, fast_config


@contextlib.asynccontextmanager
async def live_simulator(**overrides: object) -> AsyncIterator[AmiSimulator]:
    async with AmiSimulator(fast_config(speed=1.0, **overrides)) as sim:
        yield sim


async def watch(sim: AmiSimulator) -> AmiTestClient:
    """Another logged-in AMI client: it hears every event, the actions' included."""
    client = await AmiTestClient.connect(sim.port)
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "FullyBooted")
    return client


def place_answered_call(sim: AmiSimulator, phone: str = "1001") -> None:
    plan = InboundPlan(caller_num="+15557654321", agents=(phone,), answer_after=0, talk=3600)
    sim.agenda.spawn(inbound_call(sim.pbx, plan), name="recorded")


async def settled(running: Running) -> None:
    """Everything the PBX reported so far is in the database."""
    await running.bridge.synced()
    await running.bridge.drained()
