"""Two organizations, each with its own bridge started from its own AMI_URL (so both
connection keys are ``asterisk:env``), two PBXs, the Redis channel layer: a console
command reaches its own organization's PBX only, and only that PBX answers it.

It once went to both: organization A's pause and click-to-call ran on B's PBX too, and
B's "Interface not found" won the race to A's console. PBX B here has agent 1001 only,
so a command of A's for PJSIP/1002 that reached it would be refused there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

from contactcenter.models import Organization
from contactcenter.ports import PbxResult
from provisioning.demo import seed_demo
from telephony.ami.bridge import AmiBridge
from telephony.ami.client import AmiEndpoint
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.session import AmiSession as SimulatorSession
from telephony.ami.targets import ENV_CONNECTION, BridgeTarget
from telephony.pbx import pbx_command, pbx_group
from tests.telephony.bridge_harness import FAST
from tests.telephony.conftest import fast_config

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL"),
]


@pytest.fixture(autouse=True)
def on_redis(settings: Any) -> None:
    # A prefix of its own: test runs sharing the Redis server never hear each other.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.CountingRedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL}],
                "prefix": f"test-pbx-{uuid.uuid4().hex[:8]}",
            },
        }
    }


def _organizations() -> tuple[int, int]:
    a = seed_demo().organization
    b = Organization.objects.create(name="Other Co", slug=f"other-{uuid.uuid4().hex[:6]}")
    return a.pk, b.pk


@contextlib.asynccontextmanager
async def _bridge(
    simulator: AmiSimulator, organization_id: int
) -> AsyncIterator[tuple[AmiBridge, SimulatorSession]]:
    endpoint = AmiEndpoint("127.0.0.1", simulator.port, "bridge", simulator.config.secret)
    target = BridgeTarget(endpoint, organization_id, ENV_CONNECTION, trusted=True)
    bridge = AmiBridge(target, FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        session = await asyncio.wait_for(simulator.next_session(), 10)
        await _listening(organization_id)
        yield bridge, session
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _listening(organization_id: int) -> None:
    """Until the organization's desk answers (a command it refuses without the PBX)."""
    for _ in range(50):
        probe = await pbx_command(organization_id, ENV_CONNECTION, "hold", {}, timeout=0.2)
        if probe.error == "invalid":
            return
    raise AssertionError(f"organization {organization_id}: no bridge answers")


async def _command(organization_id: int, command: str, **params: Any) -> PbxResult:
    return await pbx_command(organization_id, ENV_CONNECTION, command, params, timeout=5)


def _counts(session: SimulatorSession) -> tuple[int, int]:
    return session.action_count("queuepause"), session.action_count("originate")


async def test_commands_and_replies_stay_within_their_organization(
    caplog: pytest.LogCaptureFixture,
) -> None:
    org_a, org_b = await sync_to_async(_organizations)()
    pbx_a = AmiSimulator(fast_config(dialplan_events=False, agents=3))
    pbx_b = AmiSimulator(fast_config(dialplan_events=False, agents=1))
    bridges = _bridge(pbx_a, org_a), _bridge(pbx_b, org_b)
    async with pbx_a, pbx_b, bridges[0] as (bridge_a, at_a), bridges[1] as (bridge_b, at_b):
        paused = await _command(org_a, "queue_pause", agent="PJSIP/1002", paused=True)
        assert paused.ok, paused
        called = await _command(org_a, "originate", agent="PJSIP/1002", number="+15550001")
        assert called.ok, called
        paused = await _command(org_b, "queue_pause", agent="PJSIP/1001", paused=True)
        assert paused.ok, paused
        called = await _command(org_b, "originate", agent="PJSIP/1001", number="+15550002")
        assert called.ok, called

        # A command addressed to A's group but naming B (a bug, or a forged message):
        # A's desk neither runs it nor answers it.
        layer = get_channel_layer()
        reply_to = await layer.new_channel()
        message = {
            "type": "pbx.command",
            "organization": org_b,
            "command": "queue_pause",
            "params": {"agent": "PJSIP/1003", "paused": True},
            "reply_to": reply_to,
        }
        with caplog.at_level(logging.WARNING, logger="telephony.ami.desk"):
            await layer.group_send(pbx_group(org_a, ENV_CONNECTION), message)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(layer.receive(reply_to), 0.5)

        # Whatever either desk took from the layer has been written to its PBX by the
        # time it answers a later command, and read by the PBX when a Ping returns.
        for organization, bridge in ((org_a, bridge_a), (org_b, bridge_b)):
            await _listening(organization)
            await bridge.synced()
        assert _counts(at_a) == (1, 1)
        assert _counts(at_b) == (1, 1)
    assert "refused a command for organization" in caplog.text
    await sync_to_async(connections.close_all)()
