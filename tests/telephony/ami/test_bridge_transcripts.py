"""Each recorded transcript in tests/telephony/transcripts through the simulator,
panoramisk and the bridge, over TCP.

The simulator replays the file and binds its ActionID placeholders to the actions the
bridge really sends (its resync, and the console commands of 06 and 07); the records
the bridge writes must be the ones expected_outcomes.json beside them describes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from contactcenter.models import Call, CallEvent, CallTransfer
from telephony.ami.simulator import AmiSimulator, ConnectionPlan, ReplaySpec
from telephony.pbx import pbx_command
from tests.telephony.bridge_harness import CONNECTION, running_bridge
from tests.telephony.conftest import fast_config, load_transcript
from tests.telephony.expectations import CLICK_TO_CALL, TRANSCRIPTS, check_transcript

pytestmark = pytest.mark.django_db(transaction=True)

# The console commands each transcript answers, in its order (expected_outcomes.json).
AGENT, NUMBER = CLICK_TO_CALL
COMMANDS: dict[str, list[tuple[str, dict[str, Any], bool]]] = {
    "06_originate_click_to_call.ami": [
        ("originate", {"agent": AGENT, "number": NUMBER}, True),
        ("originate", {"agent": AGENT, "number": NUMBER}, True),
    ],
    "07_agent_pause_unpause.ami": [
        ("queue_pause", {"agent": "PJSIP/1001", "paused": True, "reason": "Lunch"}, True),
        ("queue_pause", {"agent": "PJSIP/1009", "paused": True}, False),
        ("queue_pause", {"agent": "PJSIP/1001", "paused": False, "queue": "support"}, True),
        ("queue_pause", {"agent": "PJSIP/1002", "paused": False}, True),
        ("queue_remove", {"agent": "PJSIP/1003", "queue": "support"}, True),
        (
            "queue_add",
            {"agent": "PJSIP/1003", "queue": "support", "member_name": "Carol White"},
            True,
        ),
    ],
}


async def _replay_through_bridge(name: str, times: int = 1) -> int:
    """Replay ``name`` ``times`` times, each on its own connection: the simulator hangs up
    after the file, the bridge reconnects (and resyncs) and gets the file again. The last
    connection stays up, so nothing but the transcripts reaches the bridge."""
    transcript = load_transcript(name)
    # The transcript is the whole PBX: the simulator's own model has no agents to report.
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        for run in range(times):
            last = run == times - 1
            spec = ReplaySpec(transcript, drop_after=None if last else len(transcript.messages))
            simulator.expect_connection(ConnectionPlan([spec]))
        async with running_bridge(simulator) as running:
            for _ in range(times):
                session = await asyncio.wait_for(simulator.next_session(), 10)
                for command, params, ok in COMMANDS.get(name, []):
                    result = await running.bridge.execute(command, params)
                    assert result["ok"] is ok, (command, params, result)
                await asyncio.wait_for(session.replays_done.wait(), 30)
                await asyncio.wait_for(running.bridge.drained(), 30)
        assert running.bridge.stats.translate_errors == 0
        assert running.bridge.stats.connects >= times
        return running.organization_id


@pytest.mark.parametrize("name", TRANSCRIPTS)
async def test_transcript_through_the_bridge(name: str) -> None:
    org_id = await _replay_through_bridge(name)
    await sync_to_async(check_transcript)(name, org_id)


def _counts(org_id: int) -> tuple[int, int, int]:
    return (
        Call.objects.filter(organization_id=org_id).count(),
        CallEvent.objects.filter(organization_id=org_id).count(),
        CallTransfer.objects.filter(organization_id=org_id).count(),
    )


@pytest.mark.parametrize("name", TRANSCRIPTS)
async def test_transcript_replayed_twice_leaves_the_same_records(name: str) -> None:
    # Twice in a row, then once more in a new bridge (the demo seed is idempotent, so the
    # same organization): the records stay those of a single run.
    org_id = await _replay_through_bridge(name, times=2)
    await sync_to_async(check_transcript)(name, org_id)
    after_two = await sync_to_async(_counts)(org_id)
    assert await _replay_through_bridge(name) == org_id
    assert await sync_to_async(_counts)(org_id) == after_two
    await sync_to_async(check_transcript)(name, org_id)


async def test_a_console_command_reaches_the_bridge_over_the_channel_layer() -> None:
    name = "07_agent_pause_unpause.ami"
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        simulator.expect_connection(ConnectionPlan([ReplaySpec(load_transcript(name))]))
        async with running_bridge(simulator) as running:
            session = await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.sleep(0)  # let the bridge's listener join its group
            for command, params, ok in COMMANDS[name]:
                result = await pbx_command(running.organization_id, CONNECTION, command, params)
                assert result.ok is ok, (command, result)
            refused = await pbx_command(
                running.organization_id, CONNECTION, "hangup", {"call": "nope", "agent": "x"}
            )
            assert (refused.ok, refused.error) == (False, "invalid")
            await asyncio.wait_for(session.replays_done.wait(), 30)
    await sync_to_async(check_transcript)(name, running.organization_id)


def _between_calls(name: str) -> int | None:
    """The number of messages after which no channel of the transcript is up and another
    call is still to come: a place where a dropped connection loses no live call."""
    live: set[str] = set()
    messages = load_transcript(name).messages
    for count, message in enumerate(messages, start=1):
        if message.event == "Newchannel":
            live.add(message.get("Uniqueid") or "")
        elif message.event == "Hangup":
            live.discard(message.get("Uniqueid") or "")
            later = any(m.event == "Newchannel" for m in messages[count:])
            if not live and later:
                return count
    return None


DROPPABLE = [n for n in TRANSCRIPTS if n not in COMMANDS and _between_calls(n) is not None]


@pytest.mark.parametrize("name", DROPPABLE)
async def test_transcript_after_a_drop_between_calls(name: str) -> None:
    # The connection drops after the first call; the bridge reconnects, resyncs and reads
    # the whole stream again (as a PBX's backlog): the records are those of one clean run.
    transcript = load_transcript(name)
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        simulator.expect_connection(
            ConnectionPlan([ReplaySpec(transcript, drop_after=_between_calls(name))])
        )
        simulator.expect_connection(ConnectionPlan([ReplaySpec(transcript)]))
        async with running_bridge(simulator) as running:
            for _ in range(2):
                session = await asyncio.wait_for(simulator.next_session(), 10)
                await asyncio.wait_for(session.replays_done.wait(), 30)
                await asyncio.wait_for(running.bridge.drained(), 30)
        assert running.bridge.stats.connects >= 2
        assert running.bridge.stats.translate_errors == 0
    await sync_to_async(check_transcript)(name, running.organization_id)
