"""The bridge never dials a target the operator's policy refuses: not when it reads the
records at start, not at any connect after (the check is made again each time and the
checked address is dialled, so a DNS answer that changes cannot steer it). Over real
sockets: a listening server that must see no connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from provisioning.demo import seed_demo
from telephony import metrics
from telephony.ami.bridge import AmiBridge
from telephony.ami.client import AmiEndpoint
from telephony.ami.simulator import AmiSimulator
from telephony.ami.targets import BridgeTarget, dial_endpoint, record_targets
from telephony.egress import TargetRefused, ip_literal
from telephony.models import AsteriskConnection
from tests.telephony.bridge_harness import FAST, connect_once
from tests.telephony.conftest import SECRET, fast_config
from tests.telephony.wire import RecordingServer

bridge_db = pytest.mark.django_db(transaction=True)  # the bridge works in its own thread


def _record(port: int, host: str = "127.0.0.1") -> int:
    """A row pointing at loopback, written around the API (as an old release could)."""
    organization = seed_demo().organization
    AsteriskConnection.objects.create(
        organization=organization,
        name=f"pbx-{port}",
        host=host,
        port=port,
        username="bridge",
        secret=SECRET,
    )
    return int(organization.pk)


@bridge_db
async def test_a_refused_record_is_not_opened_and_never_dialled() -> None:
    async with RecordingServer().running() as server:
        org_id = await sync_to_async(_record)(server.port)
        assert await sync_to_async(record_targets)() == []
        # Even a bridge built for it checks before each connect, and never dials.
        endpoint = AmiEndpoint("127.0.0.1", server.port, "bridge", SECRET)
        bridge = AmiBridge(BridgeTarget(endpoint, org_id, "asterisk:refused"), FAST)
        metrics.watch_bridges([bridge])
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        while bridge.stats.dials_refused < 3:  # three connects, each refused
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 10)
        await sync_to_async(connections.close_all)()
    assert server.connections == 0
    assert "TargetRefused" in bridge.stats.last_error
    assert not bridge.stats.connected
    scraped = {
        sample.labels.get("connection"): sample.value
        for family in metrics._collector.collect()
        if family.name == "cc_ami_dials_refused"
        for sample in family.samples
    }
    assert scraped["asterisk:refused"] >= 3


@bridge_db
async def test_an_operator_listed_record_is_opened(settings: Any) -> None:
    async with AmiSimulator(fast_config(dialplan_events=False)) as simulator:
        settings.AMI_ALLOWED_TARGETS = [f"127.0.0.1:{simulator.port}"]
        await sync_to_async(_record)(simulator.port)
        (target,) = await sync_to_async(record_targets)()
        assert not target.trusted
        bridge = await connect_once(target)
    assert bridge.stats.connects == 1


async def test_a_name_is_dialled_by_the_address_that_was_checked(settings: Any) -> None:
    target = BridgeTarget(AmiEndpoint("localhost", 5038, "bridge", SECRET), 1, "asterisk:name")
    with pytest.raises(TargetRefused):  # loopback, not allowed
        await dial_endpoint(target)
    # "localhost" is 127.0.0.1 and may be ::1 as well: every address must be allowed.
    settings.AMI_ALLOWED_TARGETS = ["127.0.0.1:5038", "[::1]:5038"]
    endpoint = await dial_endpoint(target)
    assert ip_literal(endpoint.host) is not None  # an address, not the name again
    assert (endpoint.port, endpoint.secret) == (5038, SECRET)
    trusted = BridgeTarget(target.endpoint, 1, "asterisk:env", trusted=True)
    assert await dial_endpoint(trusted) == target.endpoint  # AMI_URL: the operator's own
