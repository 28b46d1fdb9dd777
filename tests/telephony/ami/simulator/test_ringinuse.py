"""Who the simulated PBX rings: app_queue's ringinuse and wrapuptime, and the load
generator's agents, who neither dial out nor are transferred calls while on a call.

A demo agent's console once rang with a second call while she talked on another
(issue 24): not a queue's offer (the model already kept ringinuse off), but the load
generator's click-to-calls placed from her busy phone and its transfers to it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.clock import Agenda, SimClock
from telephony.ami.simulator.directory import AgentPhone, Directory, QueueSpec
from telephony.ami.simulator.load import LoadConfig, LoadGenerator
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from telephony.demo import DEMO_PATIENCE, DEMO_QUEUES, DEMO_TALK, demo_directory
from tests.telephony.conftest import START_EPOCH

ALICE = AgentPhone(number="1001", name="Alice Smith")


def one_agent(**queue: object) -> Directory:
    """Alice alone, in ``support`` (with ``queue``'s settings) and ``sales``."""
    support = QueueSpec(name="support", strategy="rrmemory", members=("1001",))
    sales = QueueSpec(name="sales", strategy="ringall", members=("1001",))
    return Directory(phones=(ALICE,), queues=(replace(support, **queue), sales))  # type: ignore[arg-type]


async def play(directory: Directory, *calls: tuple[float, InboundPlan]) -> list[AmiMessage]:
    """The calls, each spawned at its time (simulated seconds), played to their end."""
    events: list[AmiMessage] = []
    clock = SimClock(start_epoch=START_EPOCH, speed=None)
    pbx = PbxModel(directory, clock, events.append)
    agenda = Agenda(clock, after_step=pbx.flush_devices)
    agenda.start()
    handles = [agenda.spawn(inbound_call(pbx, plan), delay=at) for at, plan in calls]
    for handle in handles:
        await asyncio.wait_for(handle.wait(), 10)
    await agenda.stop()
    return events


def when(events: list[AmiMessage], event: str, caller: str) -> list[float]:
    """Seconds since the start of each ``event`` for the call from ``caller``."""
    return [
        float(m["Timestamp"] or 0) - START_EPOCH
        for m in events
        if m.event == event and m["CallerIDNum"] == caller
    ]


FIRST = InboundPlan(caller_num="+15550000001", queue="support", answer_after=2, talk=60)
SECOND = InboundPlan(caller_num="+15550000002", queue="support", answer_after=2, talk=10)


async def test_a_member_on_a_call_is_not_rung_with_ringinuse_off() -> None:
    events = await play(one_agent(), (0, FIRST), (10, SECOND))
    (first_done,) = when(events, "AgentComplete", FIRST.caller_num)
    rung = when(events, "AgentCalled", SECOND.caller_num)
    assert rung and min(rung) > first_done  # waited for alice to hang up


async def test_a_member_on_a_call_is_rung_with_ringinuse_on() -> None:
    events = await play(one_agent(ringinuse=True), (0, FIRST), (10, SECOND))
    (first_done,) = when(events, "AgentComplete", FIRST.caller_num)
    assert min(when(events, "AgentCalled", SECOND.caller_num)) < first_done


async def test_a_member_rung_by_one_queue_is_not_rung_by_another_at_once() -> None:
    """app_queue's pending members are keyed by interface across all queues: two
    callers arriving together in support and sales never ring alice's phone twice."""
    in_sales = replace(SECOND, queue="sales", answer_after=2)
    events = await play(one_agent(), (0, FIRST), (0, in_sales))
    rung = sorted(
        (float(m["Timestamp"] or 0), m["CallerIDNum"], m.event)
        for m in events
        if m.event in ("AgentCalled", "AgentConnect", "AgentRingNoAnswer", "AgentComplete")
    )
    ringing: set[str] = set()
    for _, caller, event in rung:
        if event == "AgentCalled":
            assert not ringing, f"alice rung for {caller} while ringing for {ringing}"
            ringing.add(caller)
        else:
            ringing.discard(caller)


async def test_wrapuptime_keeps_the_member_from_every_queue_after_a_call() -> None:
    """app_queue's lastcall is shared by the member's queues (shared_lastcall, its
    default), and the wrap-up time is that of the queue the last call came from."""
    later = replace(SECOND, queue="sales")
    events = await play(one_agent(wrapuptime=30), (0, FIRST), (70, later))
    (first_done,) = when(events, "AgentComplete", FIRST.caller_num)
    rung = min(when(events, "AgentCalled", later.caller_num))
    assert first_done + 30 <= rung <= first_done + 30 + 5  # the next retry after it
    status = [m for m in events if m.event == "QueueMemberStatus" and m["Queue"] == "sales"]
    assert status[-1]["Wrapuptime"] == "0"  # a member's own setting; the queue's applies


async def test_without_wrapuptime_the_member_is_rung_at_once_after_a_call() -> None:
    events = await play(one_agent(), (0, FIRST), (70, replace(SECOND, queue="sales")))
    (first_done,) = when(events, "AgentComplete", FIRST.caller_num)
    assert first_done < 70 < min(when(events, "AgentCalled", SECOND.caller_num)) < 71


async def test_the_load_generators_agents_are_never_rung_while_on_a_call() -> None:
    """Every leg that rings an agent phone (a queue's offer, a click-to-call's first leg,
    a transfer's dial) finds it idle, in the demo's shape of traffic."""
    events: list[AmiMessage] = []
    clock = SimClock(start_epoch=START_EPOCH, speed=None)
    pbx = PbxModel(demo_directory(), clock, events.append, seed=5)
    agenda = Agenda(clock, after_step=pbx.flush_devices)
    agenda.start()
    config = LoadConfig(
        max_calls=300, seed=5, talk=DEMO_TALK, patience=DEMO_PATIENCE, queues=DEMO_QUEUES
    )
    generator = LoadGenerator(pbx, agenda, config)
    generator.start()
    report = await asyncio.wait_for(generator.wait(), 60)
    await agenda.stop()
    assert report.calls_by_kind["click_to_call"] > 10
    assert report.calls_by_kind["blind_transfer"] + report.calls_by_kind["attended_transfer"] > 10

    phones = {phone.number for phone in demo_directory().phones}
    up: dict[str, set[str]] = {number: set() for number in phones}
    rung_while_busy = []
    incoming = 0
    for message in events:
        channel = message.get("Channel") or ""
        endpoint = channel.removeprefix("PJSIP/").rpartition("-")[0]
        if endpoint not in phones:
            continue
        # An incoming leg starts Down; the phone's own outgoing call (a consultation)
        # starts in Ring.
        if message.event == "Newchannel" and message["ChannelStateDesc"] == "Down":
            incoming += 1
            if up[endpoint]:
                rung_while_busy.append((message["Timestamp"], channel, sorted(up[endpoint])))
        if message.event == "Newstate" and message["ChannelStateDesc"] == "Up":
            up[endpoint].add(channel)
        if message.event == "Hangup":
            up[endpoint].discard(channel)
    assert incoming > 200
    assert rung_while_busy == []
