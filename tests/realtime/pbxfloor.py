"""The demo floor on the real bridge and the AMI simulator over TCP, for the
supervisor's tests: alice, bob and carol at phones 1001-1003, and the supervisor's own
phone 2201 (an agent profile in no queue, seeded by seed_demo; docs/supervisor.md)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections

from contactcenter.models import Agent, CallQueue, Membership
from provisioning.demo import SUPERVISOR_EXTENSION, seed_demo
from telephony.ami.bridge import AmiBridge
from telephony.ami.client import AmiEndpoint
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.call_actions import OriginateBehaviour
from telephony.ami.simulator.directory import AgentPhone, default_directory
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from telephony.ami.targets import BridgeTarget, record_connection_key
from telephony.models import AsteriskConnection
from tests.realtime.support import sync
from tests.telephony.bridge_harness import FAST
from tests.telephony.conftest import fast_config

SUPERVISOR_PHONE = SUPERVISOR_EXTENSION


@dataclass
class Floor:
    simulator: AmiSimulator
    bridge: AmiBridge
    organization_id: int
    members: dict[str, Membership]
    agents: dict[str, Agent]
    queues: dict[str, CallQueue]

    async def settled(self) -> None:
        """Everything the PBX reported so far is in the database."""
        await self.bridge.synced()
        await self.bridge.drained()

    def place_call(self, name: str, **plan: Any) -> None:
        """An inbound call from +15557654321 into ``support``, as ``InboundPlan(**plan)``."""
        agenda = self.simulator.agenda
        assert agenda is not None  # the simulator is running
        call = InboundPlan(caller_num="+15557654321", **plan)
        agenda.spawn(inbound_call(self.simulator.pbx, call), name=name)

    def member(self, queue: str, extension: str) -> Any:
        """The simulated PBX's queue member, or None."""
        return self.simulator.pbx.queues[queue].members.get(f"PJSIP/{extension}")


@sync
def _seed() -> tuple[int, str, dict[str, Membership], dict[str, Agent], dict[str, CallQueue]]:
    org = seed_demo().organization
    record = AsteriskConnection.objects.create(
        organization=org, name="pbx", host="127.0.0.1", username="u", secret="s"
    )
    members = {
        m.user.username: m
        for m in Membership.objects.filter(organization=org).select_related("user")
    }
    # The demo's agents are named after their users: alice, bob, carol, sam.
    agents = {a.name.split()[0].lower(): a for a in Agent.objects.filter(organization=org)}
    queues = {q.pbx_queue_name: q for q in CallQueue.objects.filter(organization=org)}
    return org.pk, record_connection_key(record.pk), members, agents, queues


@contextlib.asynccontextmanager
async def pbx_floor() -> AsyncIterator[Floor]:
    org_id, key, members, agents, queues = await _seed()
    directory = default_directory(dialplan_events=False)
    directory = dataclasses.replace(
        directory, phones=(*directory.phones, AgentPhone(SUPERVISOR_PHONE, "Sam Super"))
    )
    # The PBX's clock is now, as a real one's: a state chosen on a screen is stamped now,
    # and a PBX report stamped before it would be ignored (no going back in time).
    config = fast_config(
        speed=1.0,
        start_epoch=None,
        dialplan_events=False,
        directory=directory,
        originate=OriginateBehaviour(agent_ring=0.2),
    )
    async with AmiSimulator(config) as simulator:
        endpoint = AmiEndpoint(
            "127.0.0.1", simulator.port, simulator.config.username, simulator.config.secret
        )
        bridge = AmiBridge(BridgeTarget(endpoint, org_id, key, trusted=True), FAST)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await asyncio.wait_for(bridge.connected.wait(), 10)
            floor = Floor(simulator, bridge, org_id, members, agents, queues)
            await floor.settled()
            yield floor
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await sync_to_async(connections.close_all)()
