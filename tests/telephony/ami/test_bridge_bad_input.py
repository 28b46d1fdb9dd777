"""Garbage on the AMI socket, and events with nonsense fields: logged, skipped, and the
bridge goes on recording the calls that follow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from hypothesis import given, settings
from hypothesis import strategies as st

from contactcenter.models import Call
from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator, InboundPlan
from telephony.ami.translator import Translator
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import fast_config

GARBAGE = [
    b"\x00\xff\xfe binary noise \x9c\x80\r\n\r\n",
    b"this line has no colon\r\nneither: does\r\nthis one\r\n\r\n",
    b"Event: TotallyUnknownEvent\r\nFoo: bar\r\n\r\n",
    b"Event: Hangup\r\nUniqueid: nope\r\nTimestamp: not-a-number\r\nCause: many\r\n\r\n",
    b"Event: AgentConnect\r\nPrivilege: agent,all\r\nHoldTime: abc\r\nRingTime: \r\n\r\n",
    b"Event: DialEnd\r\nDestUniqueid: 1.2\r\nDialStatus: ANSWER\r\n\r\n",
    b"Event: Newchannel\r\nChannel: \r\nUniqueid: \r\nLinkedid: \r\n\r\n",
    b"Event: QueueMemberStatus\r\nQueue: nowhere\r\nInterface: PJSIP/9999\r\nStatus: 42\r\n\r\n",
    b"Event: BlindTransfer\r\nResult: Success\r\n\r\n",
    b"Event: AttendedTransfer\r\nResult: Success\r\nTransferTargetUniqueid: 9.9\r\n\r\n",
    b"Key: " + b"x" * 70000 + b"\r\n\r\n",
]


@pytest.mark.django_db(transaction=True)
async def test_garbage_is_skipped_and_the_next_call_recorded() -> None:
    config = fast_config(dialplan_events=False)
    async with AmiSimulator(config) as simulator:
        async with running_bridge(simulator) as running:
            session = await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.wait_for(session.authenticated.wait(), 10)
            for chunk in GARBAGE:
                session.write(chunk)
            await running.bridge.synced()
            plan = InboundPlan("+15557654321", "JOHN SMITH", agents=("1001",), talk=30.0)
            await asyncio.wait_for(simulator.start_call(plan).wait(), 30)
            await running.bridge.synced()
        assert running.bridge.stats.connects == 1  # never dropped
    calls = await sync_to_async(
        lambda: list(Call.objects.filter(organization_id=running.organization_id))
    )()
    assert [(c.status, c.talk_seconds) for c in calls] == [("completed", 30)]


_FIELD_NAMES = [
    "Channel",
    "Uniqueid",
    "Linkedid",
    "DestChannel",
    "DestUniqueid",
    "DestLinkedid",
    "Queue",
    "Interface",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "Reason",
    "DialStatus",
    "Cause",
    "Timestamp",
    "ChannelState",
    "Result",
    "TransfererChannel",
    "TransfereeLinkedid",
    "Extension",
    "Context",
    "Status",
    "Paused",
    "CallsTaken",
    "Exten",
    "CallerIDNum",
    "TransferTargetUniqueid",
    "SecondTransfererLinkedid",
    "OrigTransfererChannel",
    "Position",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(Translator.EVENTS)),
            st.dictionaries(
                st.sampled_from(_FIELD_NAMES),
                st.one_of(
                    st.text(max_size=20),
                    st.sampled_from(
                        [
                            "1.1",
                            "1.2",
                            "PJSIP/1001-00000001",
                            "6",
                            "0",
                            "ANSWER",
                            "Success",
                            "1741950000.123456",
                            "PJSIP/1001",
                            "-5",
                            "<unknown>",
                        ]
                    ),
                ),
                max_size=12,
            ),
        ),
        max_size=30,
    )
)
def test_the_translator_never_raises(events: list[tuple[str, dict[str, str]]]) -> None:
    translator = Translator(
        is_agent={"PJSIP/1001", "PJSIP/1002"}.__contains__,
        clock=lambda: datetime(2025, 1, 1, tzinfo=UTC),
    )
    for name, fields in events:
        message = AmiMessage.of(("Event", name), *fields.items())
        for fact in translator.translate(message):
            assert fact.at.tzinfo is not None
