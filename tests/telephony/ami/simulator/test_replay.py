"""Transcript replay to a real panoramisk 1.4 Manager (and to a raw client).

panoramisk usage follows docs/ami.md §9: plain on_login callbacks,
``as_list=False`` for Originate/QueueAdd, and every send_action under wait_for.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from telephony.ami.simulator import AmiSimulator, ConnectionPlan, ReplaySpec
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET, TRANSCRIPT_NAMES, load_transcript
from tests.telephony.panoramisk_client import ORIGINATE, TIMEOUT, PanoramiskClient

# (action, as_list) in the order each transcript expects them (expected_outcomes.json).
CLIENT_ACTIONS: dict[str, list[tuple[dict[str, str], bool | None]]] = {
    "06_originate_click_to_call.ami": [(ORIGINATE, False), (ORIGINATE, False)],
    "07_agent_pause_unpause.ami": [
        (
            {
                "Action": "QueuePause",
                "Interface": "PJSIP/1001",
                "Paused": "true",
                "Reason": "Lunch",
            },
            None,
        ),
        ({"Action": "QueuePause", "Interface": "PJSIP/1009", "Paused": "true"}, None),
        (
            {
                "Action": "QueuePause",
                "Interface": "PJSIP/1001",
                "Paused": "false",
                "Queue": "support",
            },
            None,
        ),
        ({"Action": "QueuePause", "Interface": "PJSIP/1002", "Paused": "false"}, None),
        ({"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1003"}, None),
        (
            {
                "Action": "QueueAdd",
                "Queue": "support",
                "Interface": "PJSIP/1003",
                "MemberName": "Carol White",
                "StateInterface": "PJSIP/1003",
                "Penalty": "0",
                "Paused": "false",
            },
            False,
        ),
    ],
    "09_reconnect_resync.ami": [
        ({"Action": "CoreShowChannels"}, None),
        ({"Action": "QueueStatus"}, None),
        ({"Action": "QueueSummary"}, None),
    ],
}


def events_in(results: list[Any]) -> Counter[str]:
    """Events panoramisk folded into action results (list replies) instead of dispatching."""
    counts: Counter[str] = Counter()
    for result in results:
        for message in result if isinstance(result, list) else [result]:
            if message.event:
                counts[message.event] += 1
    return counts


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
async def test_panoramisk_receives_every_event_of_each_transcript(
    simulator: AmiSimulator, name: str
) -> None:
    transcript = load_transcript(name)
    simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript)]))
    client = PanoramiskClient(simulator.port)
    try:
        await client.connect()
        session = await simulator.next_session()
        results = [
            await client.send(action, as_list) for action, as_list in CLIENT_ACTIONS.get(name, [])
        ]
        await asyncio.wait_for(session.replays_done.wait(), TIMEOUT)
        # Answered natively after the transcript: every replayed byte is in by now.
        pong = await client.send({"Action": "Ping"})
        assert pong.ping == "Pong"
        received = client.events + events_in(results)
        assert received == transcript.event_counts()
        [report] = session.replay_reports
        assert report.completed and report.messages_sent == len(transcript)
    finally:
        client.close()


async def test_09_list_replies_come_back_as_action_results(simulator: AmiSimulator) -> None:
    simulator.expect_connection(
        ConnectionPlan([ReplaySpec(load_transcript("09_reconnect_resync.ami"))])
    )
    client = PanoramiskClient(simulator.port)
    try:
        await client.connect()
        channels = await client.send({"Action": "CoreShowChannels"})
        status = await client.send({"Action": "QueueStatus"})
        summary = await client.send({"Action": "QueueSummary"})
        assert [m.event for m in channels[1:]] == ["CoreShowChannel"] * 4 + [
            "CoreShowChannelsComplete"
        ]
        assert {m.channel for m in channels[1:-1]} >= {
            "PJSIP/trunk-00000016",
            "PJSIP/1001-00000017",
        }
        assert Counter(m.event for m in status[1:]) == {
            "QueueParams": 2,
            "QueueMember": 4,
            "QueueEntry": 1,
            "QueueStatusComplete": 1,
        }
        assert summary[-1].listitems == "2"
        # Every item carries this client's own ActionID, bound from the placeholder.
        assert {m.actionid for m in channels} == {channels[0].actionid}
        assert channels[0].actionid.startswith("action/")
    finally:
        client.close()


async def test_06_originate_responses_carry_the_clients_action_ids(
    simulator: AmiSimulator,
) -> None:
    simulator.expect_connection(
        ConnectionPlan([ReplaySpec(load_transcript("06_originate_click_to_call.ami"))])
    )
    client = await AmiTestClient.connect(simulator.port)
    await client.login(secret=SECRET)
    await client.sync()
    # Held at {{Originate#1}}: nothing after FullyBooted until the client originates.
    assert [m.event or m.get("Ping") for m in client.messages] == [None, "FullyBooted", "Pong"]
    first = client.send("Originate", **{k: v for k, v in ORIGINATE.items() if k != "Action"})
    await client.wait_for(lambda m: m.event == "OriginateResponse")
    second = client.send("Originate", **{k: v for k, v in ORIGINATE.items() if k != "Action"})
    session = simulator.sessions[-1]
    await asyncio.wait_for(session.replays_done.wait(), TIMEOUT)
    await client.sync()
    responses = [m for m in client.messages if m.event == "OriginateResponse"]
    assert [(m.action_id, m.response) for m in responses] == [
        (first, "Failure"),
        (second, "Success"),
    ]
    acks = [m for m in client.messages if m.get("Message") == "Originate successfully queued"]
    assert [m.action_id for m in acks] == [first, second]
    await client.close()


async def test_same_transcript_twice_on_one_connection(simulator: AmiSimulator) -> None:
    transcript = load_transcript("06_originate_click_to_call.ami")
    simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript), ReplaySpec(transcript)]))
    client = await AmiTestClient.connect(simulator.port)
    await client.login(secret=SECRET)
    fields = {k: v for k, v in ORIGINATE.items() if k != "Action"}
    sent = []
    for expected_responses in range(1, 5):
        sent.append(client.send("Originate", **fields))
        await client.wait_for(
            lambda m, n=expected_responses: (
                m.event == "OriginateResponse"
                and sum(x.event == "OriginateResponse" for x in client.messages) >= n
            )
        )
    session = simulator.sessions[-1]
    await asyncio.wait_for(session.replays_done.wait(), TIMEOUT)
    await client.sync()
    responses = [m.action_id for m in client.messages if m.event == "OriginateResponse"]
    assert responses == sent
    # The second pass skips the Login answer: one FullyBooted, everything else twice.
    expected = transcript.event_counts()
    expected = expected + expected - Counter({"FullyBooted": 1})
    assert client.events == expected
    assert [r.messages_sent for r in session.replay_reports] == [
        len(transcript),
        len(transcript) - 2,
    ]
    await client.close()


async def test_drop_then_reconnect_gets_the_transcript_again(simulator: AmiSimulator) -> None:
    """A bridge that resyncs on every login survives a drop in the middle of a list."""
    transcript = load_transcript("09_reconnect_resync.ami")
    simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript, drop_after=10)]))
    simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript)]))
    client = PanoramiskClient(simulator.port, reconnect_timeout=0)
    resyncs: list[asyncio.Task[list[Any]]] = []

    async def resync() -> list[Any]:
        return [await client.send(action) for action, _ in CLIENT_ACTIONS[transcript.name]]

    client.manager.on_login = lambda manager: resyncs.append(asyncio.ensure_future(resync()))
    try:
        await client.manager.connect()
        first = await simulator.next_session()
        await asyncio.wait_for(first.closed.wait(), TIMEOUT)
        assert first.replay_reports[0].dropped
        assert first.replay_reports[0].messages_sent == 10
        second = await asyncio.wait_for(simulator.next_session(), TIMEOUT)
        await client.wait_until(lambda: len(resyncs) == 2)
        results = await asyncio.wait_for(resyncs[1], TIMEOUT)
        await asyncio.wait_for(second.replays_done.wait(), TIMEOUT)
        await client.send({"Action": "Ping"})
        assert second.replay_reports[0].completed
        assert [len(result) for result in results] == [6, 9, 4]
        # Dispatched events: both logins' FullyBooted, then the second session's live
        # events in full (list items went into the action results instead).
        live = Counter(m.event for m in transcript.events() if m.action_id is None)
        assert client.events == live + Counter({"FullyBooted": 1})
        assert events_in(results) == transcript.event_counts() - live
    finally:
        for task in resyncs:
            task.cancel()
        client.close()


async def test_paced_replay_follows_the_timestamps(simulator: AmiSimulator) -> None:
    transcript = load_transcript("01_inbound_queue_answered.ami")
    # 126.5 s of recorded time at 1000x: about 0.13 s.
    simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript, speed=1000.0)]))
    client = await AmiTestClient.connect(simulator.port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "Cdr")
    elapsed = loop.time() - started
    assert 0.12 <= elapsed < 2.0
    assert client.events == transcript.event_counts()
    await client.close()


async def test_session_stays_open_after_the_transcript(simulator: AmiSimulator) -> None:
    simulator.expect_connection(
        ConnectionPlan([ReplaySpec(load_transcript("02_queue_abandoned.ami"))])
    )
    client = await AmiTestClient.connect(simulator.port)
    await client.login(secret=SECRET)
    session = await simulator.next_session()
    await asyncio.wait_for(session.replays_done.wait(), TIMEOUT)
    for _ in range(3):
        assert (await client.request("Ping")).get("Ping") == "Pong"
    assert not client.closed.is_set()
    await client.close()
