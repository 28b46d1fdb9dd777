"""Numbers from the PBX that do not fit our columns are dropped at the edge, with a
warning, and the rest of the fact is applied.

A 20-digit HoldTime or Cause once made PostgreSQL refuse the answer and the hangup
(integer out of range): the call stayed open until the next resync. Here the answered
call of transcript 01, with its HoldTime, TalkTime and Cause made 20 digits long, goes
through the simulator, panoramisk and the bridge over TCP, and is recorded as the
untouched transcript is, the causes aside.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re

import pytest
from asgiref.sync import sync_to_async

from contactcenter.models import Call
from telephony.ami import fields
from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator, ConnectionPlan, ReplaySpec, Transcript
from telephony.ratelog import RateLimitedLog
from telephony.twilio.params import InvalidCallback, parse_callback
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import TRANSCRIPTS, fast_config
from tests.telephony.expectations import EXPECTED, check_call

NAME = "01_inbound_queue_answered.ami"
HUGE = b"12345678901234567890"


def _oversized() -> Transcript:
    data = (TRANSCRIPTS / NAME).read_bytes()
    data, holds = re.subn(rb"\r\nHoldTime: \d+\r\n", b"\r\nHoldTime: " + HUGE + b"\r\n", data)
    data, talks = re.subn(rb"\r\nTalkTime: \d+\r\n", b"\r\nTalkTime: " + HUGE + b"\r\n", data)
    data, causes = re.subn(rb"\r\nCause: \d+\r\n", b"\r\nCause: " + HUGE + b"\r\n", data)
    assert (holds, talks) == (2, 1) and causes >= 2
    return Transcript.parse(data, name=NAME)


@pytest.mark.django_db(transaction=True)
async def test_a_call_with_20_digit_numbers_is_answered_and_ended(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fields, "_out_of_range", RateLimitedLog(fields.logger))
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        simulator.expect_connection(ConnectionPlan([ReplaySpec(_oversized())]))
        with caplog.at_level(logging.WARNING, logger=fields.logger.name):
            async with running_bridge(simulator) as running:
                session = await asyncio.wait_for(simulator.next_session(), 10)
                await asyncio.wait_for(session.replays_done.wait(), 30)
                await asyncio.wait_for(running.bridge.drained(), 30)
    assert running.bridge.stats.translate_errors == 0

    def recorded() -> Call:
        return Call.objects.get(organization_id=running.organization_id)

    call = await sync_to_async(recorded)()
    (want,) = EXPECTED[NAME]["calls"]
    # Status, answer and end times, agent, and the wait and talk the bridge works out
    # from the times when the PBX's own figures are dropped: as the untouched transcript.
    await sync_to_async(check_call)(call, want, resynced=False)
    assert call.hangup_cause is None
    assert "HoldTime='12345678901234567890' is out of range; dropped" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_a_caller_name_with_a_nul_is_recorded_with_the_rest_of_its_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # PostgreSQL refused the call's first fact over the NUL: the call was missed live
    # and only a resync made it, without its caller. The parser replaces the NUL.
    # Put in after parsing (the simulator's parser would repair it): the NUL goes out
    # on the wire to the bridge.
    transcript = Transcript.load(TRANSCRIPTS / NAME)
    messages = tuple(
        m.with_field("CallerIDName", "JOHN\x00SMITH") if m.get("CallerIDName") else m
        for m in transcript.messages
    )
    assert sum("\x00" in (m.get("CallerIDName") or "") for m in messages) >= 2
    nul = dataclasses.replace(transcript, messages=messages)
    async with AmiSimulator(fast_config(agents=0)) as simulator:
        simulator.expect_connection(ConnectionPlan([ReplaySpec(nul)]))
        with caplog.at_level(logging.WARNING):
            async with running_bridge(simulator) as running:
                session = await asyncio.wait_for(simulator.next_session(), 10)
                await asyncio.wait_for(session.replays_done.wait(), 30)
                await asyncio.wait_for(running.bridge.drained(), 30)
    assert "database refused" not in caplog.text
    assert "AMI: repaired a frame (nul_replaced)" in caplog.text

    def recorded() -> Call:
        return Call.objects.get(organization_id=running.organization_id)

    call = await sync_to_async(recorded)()
    (want,) = EXPECTED[NAME]["calls"]
    await sync_to_async(check_call)(call, {**want, "from_name": "JOHN\ufffdSMITH"})


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("6", 6),
        ("2147483647", 2147483647),
        ("2147483648", None),
        ("12345678901234567890", None),
        ("-5", None),
        ("", None),
        ("abc", None),
        ("²", None),
    ],
)
def test_integers_outside_the_columns_range_are_dropped(raw: str, value: int | None) -> None:
    assert fields.integer(AmiMessage.of(HoldTime=raw), "HoldTime") == value


def test_a_huge_duration_is_dropped() -> None:
    assert fields.duration("00:02:00") is not None
    assert fields.duration("99999999999999999999:00:00") is None
    assert fields.duration("²:00:00") is None


def test_twilio_counts_too_large_are_dropped_and_the_rest_kept() -> None:
    sid = "CA" + "0" * 32
    parsed = parse_callback({"CallSid": sid, "CallDuration": "1" * 20, "CallStatus": "completed"})
    assert (parsed.call_duration, parsed.status) == (None, "completed")
    assert parse_callback({"CallSid": sid, "CallDuration": "42"}).call_duration == 42
    with pytest.raises(InvalidCallback):  # "²".isdigit() is true; it is still not a count
        parse_callback({"CallSid": sid, "CallDuration": "²"})
