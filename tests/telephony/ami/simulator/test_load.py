"""The load generator: a client gets exactly the events the report counts; the demo's
shape (known callers, both queues, a slow wave) is what a client sees."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from provisioning.demo import demo_callers
from telephony.ami.simulator import AmiSimulator, LoadConfig, LoadReport
from telephony.demo import DemoConfig, DemoPbx, demo_directory
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


DEMO_SHAPE = {
    "queues": {"support": 0.65, "sales": 0.35},
    "known_callers": demo_callers(),
    "known_share": 0.5,
    "wave_period": 150.0,
    "wave_depth": 0.8,
}


async def _joins(seed: int, **shape: Any) -> tuple[LoadReport, list[tuple[float, str, str]], int]:
    """(seconds after the load started, queue, caller) of each QueueCallerJoin."""
    async with AmiSimulator(fast_config(directory=demo_directory())) as simulator:
        client = await AmiTestClient.connect(simulator.port)
        await client.login(secret=SECRET)
        await client.wait_for(lambda m: m.event == "FullyBooted")
        # As fast as possible: calls_per_second is per simulated second, and so is the wave.
        generator = simulator.start_load(
            LoadConfig(calls_per_second=0.5, max_calls=300, seed=seed, **shape)
        )
        report = await asyncio.wait_for(generator.wait(), 60)
        await client.sync()
        start = generator.started_usec / 1_000_000
        joins = [
            (float(m["Timestamp"]) - start, m["Queue"], m["CallerIDNum"])
            for m in client.messages
            if m.event == "QueueCallerJoin"
        ]
        await client.close()
    assert_calls_complete(report)
    return report, joins, generator.known_customers


async def test_demo_shape_known_callers_both_queues_and_a_slow_wave() -> None:
    report, joins, known = await _joins(5, **DEMO_SHAPE)
    numbers = {number for number, _ in demo_callers()}

    # About half the callers are the seeded contacts (whose pops will match).
    share = sum(caller in numbers for _, _, caller in joins) / len(joins)
    assert 0.4 <= share <= 0.6, share
    assert len({caller for _, _, caller in joins if caller in numbers}) >= len(numbers) - 2
    assert known == report.known_customers >= sum(caller in numbers for _, _, caller in joins)

    # Both queues get calls, in about the weights asked.
    by_queue = Counter(queue for _, queue, _ in joins)
    assert set(by_queue) == {"support", "sales"}
    assert 0.25 <= by_queue["sales"] / len(joins) <= 0.45, by_queue
    assert report.calls_by_queue == dict(by_queue)

    # The rate swings: the crest half of each cycle gets far more calls than the trough.
    def crest(at: float) -> bool:
        return math.sin(2 * math.pi * at / DEMO_SHAPE["wave_period"]) > 0  # type: ignore[operator]

    cycles = max(at for at, _, _ in joins) / DEMO_SHAPE["wave_period"]  # type: ignore[operator]
    assert cycles >= 2.5
    in_crest = sum(crest(at) for at, _, _ in joins)
    assert in_crest > 2 * (len(joins) - in_crest), (in_crest, len(joins))

    # Seeded: the same calls again.
    again = await _joins(5, **DEMO_SHAPE)
    assert again[1] == joins


async def test_without_a_wave_the_rate_is_steady() -> None:
    shape = {**DEMO_SHAPE, "wave_period": None, "wave_depth": 0.0}
    _, joins, _ = await _joins(5, **shape)
    in_crest = sum(math.sin(2 * math.pi * at / 150.0) > 0 for at, _, _ in joins)
    assert 0.4 <= in_crest / len(joins) <= 0.6


def test_load_shape_is_checked() -> None:
    for bad in (
        {"known_share": 1.5, "known_callers": (("+15550000000", ""),)},
        {"known_share": 0.5},
        {"wave_depth": 1.0, "wave_period": 60.0},
        {"wave_period": 0.0, "wave_depth": 0.5},
        {"queues": {}},
        {"queues": {"support": -1.0, "sales": 2.0}},
    ):
        with pytest.raises(ValueError):
            LoadConfig(**bad)  # type: ignore[arg-type]


async def test_a_queue_the_pbx_lacks_is_refused() -> None:
    async with AmiSimulator(fast_config()) as simulator:
        with pytest.raises(ValueError, match="billing"):
            simulator.start_load(LoadConfig(queues={"support": 1.0, "billing": 1.0}))


async def test_the_demo_has_calm_and_pressure() -> None:
    # The demo's own load, at full speed for ten waves (the wave and the rate then run on
    # simulated seconds): its queues fill at the crest and drain in the trough.
    demo = DemoPbx(DemoConfig(seed=3)).load_config()
    calls = int(demo.calls_per_second * demo.wave_period * 10)  # type: ignore[operator]
    config = replace(demo, max_calls=calls, drain=True)
    async with AmiSimulator(fast_config(directory=demo_directory())) as simulator:
        client = await AmiTestClient.connect(simulator.port)
        await client.login(secret=SECRET)
        await client.wait_for(lambda m: m.event == "FullyBooted")
        generator = simulator.start_load(config)
        await asyncio.wait_for(generator.wait(), 60)
        await client.sync()
        start = generator.started_usec / 1_000_000
        messages = list(client.messages)
        await client.close()
    period = demo.wave_period
    assert period is not None

    def crest(at: float) -> bool:
        return math.sin(2 * math.pi * at / period) > 0

    joined: dict[str, float] = {}
    waiting: list[tuple[float, int]] = []
    served = {True: [0, 0], False: [0, 0]}  # crest?: [callers, answered within 20 s]
    queue_events = ("QueueCallerJoin", "QueueCallerLeave", "AgentConnect", "QueueCallerAbandon")
    for m in messages:
        if m.event not in queue_events:
            continue
        at = float(m["Timestamp"]) - start
        if m.event == "QueueCallerJoin":
            joined[m["Uniqueid"]] = at
            waiting.append((at, +1))
        elif m.event == "QueueCallerLeave":
            waiting.append((at, -1))
        elif m.event in ("AgentConnect", "QueueCallerAbandon") and m["Uniqueid"] in joined:
            tally = served[crest(joined[m["Uniqueid"]])]
            tally[0] += 1
            tally[1] += m.event == "AgentConnect" and int(m["HoldTime"]) <= 20
    # Callers waiting, integrated over time, in the crest and in the trough halves.
    area = {True: 0.0, False: 0.0}
    now, count = 0.0, 0
    for at, step in sorted(waiting):
        area[crest(now)] += count * (at - now)
        now, count = at, count + step
    assert area[True] > 3 * area[False], area
    level = {half: within / callers for half, (callers, within) in served.items()}
    assert level[True] < 0.7 < 0.75 < level[False], level
