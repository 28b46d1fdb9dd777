"""The load generator: a client gets exactly the events the report counts."""

from __future__ import annotations

import asyncio
from collections import Counter

from telephony.ami.simulator import AmiSimulator, LoadConfig, LoadReport
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET, fast_config


async def run_load(simulator: AmiSimulator, config: LoadConfig) -> tuple[LoadReport, Counter[str]]:
    client = await AmiTestClient.connect(simulator.port)
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "FullyBooted")
    generator = simulator.start_load(config)
    report = await asyncio.wait_for(generator.wait(), 30)
    await client.sync()
    received = Counter(m.event for m in client.messages if m.event and m.event != "FullyBooted")
    await client.close()
    return report, received


def assert_calls_complete(report: LoadReport) -> None:
    counts = report.events_by_type
    assert counts["Newchannel"] == counts["Hangup"] > 0
    assert counts.get("BridgeEnter", 0) == counts.get("BridgeLeave", 0)


async def test_event_rate_for_two_seconds_delivers_exactly_the_reported_count() -> None:
    async with AmiSimulator(fast_config(agents=6)) as simulator:
        report, received = await run_load(
            simulator, LoadConfig(events_per_second=300, duration=2.0, seed=7)
        )
    assert received == Counter(report.events_by_type)
    assert sum(received.values()) == report.events
    assert report.elapsed >= 2.0
    # The throttle held the pace while calls were being placed (the drain then bursts).
    assert report.events >= 300 * 1.8
    assert_calls_complete(report)


async def test_call_rate_with_compressed_time() -> None:
    # 4 calls per real second; 60 simulated seconds per real second.
    async with AmiSimulator(fast_config(agents=8, speed=60.0)) as simulator:
        report, received = await run_load(
            simulator, LoadConfig(calls_per_second=4, duration=1.5, seed=3)
        )
    assert received == Counter(report.events_by_type)
    assert 1 <= report.calls <= 20
    assert_calls_complete(report)


async def test_as_fast_as_possible_is_seeded_and_deterministic() -> None:
    streams = []
    for _ in range(2):
        async with AmiSimulator(fast_config(agents=5)) as simulator:
            client = await AmiTestClient.connect(simulator.port)
            await client.login(secret=SECRET)
            await client.wait_for(lambda m: m.event == "FullyBooted")
            report = await asyncio.wait_for(
                simulator.start_load(LoadConfig(max_calls=120, seed=11)).wait(), 30
            )
            await client.sync()
            streams.append([m for m in client.messages if m.event and m.event != "FullyBooted"])
            await client.close()
    assert streams[0] == streams[1]
    assert report.calls == 120
    assert set(report.calls_by_kind) == {
        "answered",
        "abandoned",
        "ring_no_answer",
        "hold",
        "blind_transfer",
        "attended_transfer",
        "click_to_call",
    }
    assert_calls_complete(report)
    kinds = report.events_by_type
    for event in ("AgentConnect", "QueueCallerAbandon", "AgentRingNoAnswer", "Hold"):
        assert kinds.get(event, 0) > 0, event
    for event in ("BlindTransfer", "AttendedTransfer", "OriginateResponse"):
        assert kinds.get(event, 0) > 0, event
