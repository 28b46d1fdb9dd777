"""A bridge asked to stop closes its AMI connection without a warning; a connection the
PBX drops is still one (issue 24).

Ctrl-C on ./scripts/run logged "WARNING ... AMI demo@...: connection closed" as the last
words of every demo, although nothing had gone wrong.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from telephony.ami.simulator import AmiSimulator, ConnectionPlan
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import fast_config

pytestmark = pytest.mark.django_db(transaction=True)

BRIDGE = "telephony.ami.bridge"


def _closed(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == BRIDGE and "connection closed" in r.getMessage()]


async def test_a_bridge_that_is_stopped_closes_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=BRIDGE)
    async with (
        AmiSimulator(fast_config(agents=0)) as simulator,
        running_bridge(simulator) as running,
    ):
        await running.bridge.synced()
    closed = _closed(caplog)
    assert [r.levelno for r in closed] == [logging.INFO], closed
    assert "the bridge stops" in closed[0].getMessage()
    assert not [r for r in caplog.records if r.name == BRIDGE and r.levelno >= logging.WARNING]


async def test_a_connection_the_pbx_drops_is_still_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=BRIDGE)
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        simulator.expect_connection(ConnectionPlan())
        simulator.expect_connection(ConnectionPlan())
        async with running_bridge(simulator) as running:
            first = await asyncio.wait_for(simulator.next_session(), 10)
            await running.bridge.synced()
            first.close()  # the PBX goes away; the bridge reconnects
            await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.wait_for(running.bridge.connected.wait(), 10)
            await running.bridge.synced()
    closed = _closed(caplog)
    assert [r.levelno for r in closed] == [logging.WARNING, logging.INFO], closed
