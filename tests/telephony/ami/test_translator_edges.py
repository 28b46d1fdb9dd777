"""Translator rules the transcripts do not reach: a chan_sip phone's own call (its
channel appears Down, as an Originate's does), a blind transfer whose call ends
before the transferee dials anyone, and someone else's click-to-dial whose agent never
answered (only the OriginateResponse after the Hangup names the number)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactcenter import facts as te
from contactcenter.models import Call, CallEvent
from contactcenter.services.telephony import telephony_apply
from provisioning.demo import seed_demo
from telephony.ami.frames import AmiMessage
from telephony.ami.translator import Translator

pytestmark = pytest.mark.django_db

T0 = 1741970000.0


class Stream:
    """Builds AMI events for a few channels, one second apart unless told."""

    def __init__(self) -> None:
        self.at = T0
        self.messages: list[AmiMessage] = []

    def event(self, name: str, *pairs: tuple[str, str], after: float = 1.0) -> None:
        self.at += after
        self.messages.append(
            AmiMessage.of(("Event", name), ("Timestamp", f"{self.at:.6f}"), *pairs)
        )

    @staticmethod
    def channel(name: str, uid: str, linked: str, prefix: str = "", **extra: str) -> list:
        fields = {"Channel": name, "Uniqueid": uid, "Linkedid": linked, **extra}
        return [(prefix + key, value) for key, value in fields.items()]


def _records(stream: Stream) -> Call:
    org = seed_demo().organization
    translator = Translator(is_agent={"PJSIP/1001", "SIP/1001"}.__contains__)
    facts: list[te.Fact] = []
    for message in stream.messages:
        facts += translator.translate(message)
    telephony_apply(organization_id=org.pk, connection_key="offline", events=facts)
    return Call.objects.get(organization=org)


def test_a_chan_sip_phones_own_call_is_no_click_to_dial() -> None:
    # chan_sip creates a phone's incoming channel Down (state 0), like an Originate's; only
    # an Originate dials that channel (DialBegin with no caller block).
    s = Stream()
    phone = Stream.channel("SIP/1001-00000001", "1.1", "1.1", Exten="2001", Context="from-internal")
    callee = Stream.channel("SIP/2001-00000002", "1.2", "1.1", Context="from-internal")
    s.event("Newchannel", *phone, ("ChannelState", "0"), ("CallerIDNum", "1001"))
    s.event("Newchannel", *Stream.channel("SIP/2001-00000002", "1.2", "1.1"), ("ChannelState", "0"))
    s.event(
        "DialBegin",
        *Stream.channel("SIP/1001-00000001", "1.1", "1.1"),
        *Stream.channel("SIP/2001-00000002", "1.2", "1.1", "Dest"),
        ("DialString", "2001"),
    )
    s.event(
        "DialEnd",
        *Stream.channel("SIP/1001-00000001", "1.1", "1.1"),
        *Stream.channel("SIP/2001-00000002", "1.2", "1.1", "Dest"),
        ("DialStatus", "NOANSWER"),
        after=20,
    )
    s.event("Hangup", *callee, ("Cause", "19"))
    s.event("Hangup", *phone, ("Cause", "19"))
    call = _records(s)
    assert (call.status, call.direction, call.caller_number) == ("no_answer", "internal", "1001")
    assert not call.events.filter(type="agent.connected").exists()


def test_a_blind_transfer_whose_call_ends_before_any_dial_failed() -> None:
    s = Stream()
    caller = Stream.channel("PJSIP/trunk-00000001", "2.1", "2.1", Context="from-trunk")
    agent = Stream.channel("PJSIP/1001-00000002", "2.2", "2.1", Context="from-internal")
    s.event("Newchannel", *caller, ("ChannelState", "4"), ("CallerIDNum", "+15550000001"))
    s.event("Newchannel", *agent, ("ChannelState", "0"))
    s.event(
        "DialBegin",
        *caller,
        *Stream.channel("PJSIP/1001-00000002", "2.2", "2.1", "Dest"),
        ("DialString", "1001"),
    )
    s.event("Newstate", *agent, ("ChannelState", "6"), after=3)
    s.event(
        "DialEnd",
        *caller,
        *Stream.channel("PJSIP/1001-00000002", "2.2", "2.1", "Dest"),
        ("DialStatus", "ANSWER"),
        after=0.001,
    )
    s.event(
        "BlindTransfer",
        ("Result", "Success"),
        *Stream.channel("PJSIP/1001-00000002", "2.2", "2.1", "Transferer"),
        *Stream.channel("PJSIP/trunk-00000001", "2.1", "2.1", "Transferee"),
        ("Context", "from-internal"),
        ("Extension", "1099"),
        after=30,
    )
    s.event("Hangup", *agent, ("Cause", "16"), after=0.001)
    s.event("Hangup", *caller, ("Cause", "1"), after=0.002)  # no such extension
    call = _records(s)
    (transfer,) = call.transfers.all()
    assert (transfer.status, transfer.details["reason"]) == ("failed", "not_dialled")
    assert call.status == "completed"
    assert call.ended_at == datetime.fromtimestamp(s.at, tz=UTC)


def _unanswered_originate(s: Stream, channel: str, uid: str, *, local: bool = False) -> None:
    """An Originate rings ``channel`` (or, through a Local pair, the phone behind it) and
    nobody answers: Hangup Cause 19 and no DialEnd (docs/ami.md §6)."""
    first = Stream.channel(channel, uid, uid, Context="from-internal", Exten="s")
    s.event("Newchannel", *first, ("ChannelState", "0"), ("CallerIDNum", "1001"))
    s.event("DialBegin", *Stream.channel(channel, uid, uid, "Dest"), ("DialString", "1001"))
    legs = [first]
    if local:
        half = channel.replace(";1", ";2")
        phone = Stream.channel("PJSIP/1001-000000a1", f"{uid}2", uid, Context="from-internal")
        s.event("Newchannel", *Stream.channel(half, f"{uid}1", uid), ("ChannelState", "4"))
        s.event("Newchannel", *phone, ("ChannelState", "0"), ("CallerIDNum", "1001"))
        s.event(
            "DialBegin",
            *Stream.channel(half, f"{uid}1", uid),
            *Stream.channel("PJSIP/1001-000000a1", f"{uid}2", uid, "Dest"),
            ("DialString", "PJSIP/1001"),
        )
        s.event(
            "DialEnd",
            *Stream.channel(half, f"{uid}1", uid),
            *Stream.channel("PJSIP/1001-000000a1", f"{uid}2", uid, "Dest"),
            ("DialStatus", "NOANSWER"),
            after=30,
        )
        legs = [phone, Stream.channel(half, f"{uid}1", uid), first]
    for leg in legs:
        s.event("Hangup", *leg, ("Cause", "19"), after=0.001 if local else 30)


def _failure(s: Stream, channel: str, number: str, uniqueid: str = "<unknown>") -> None:
    s.event(
        "OriginateResponse",
        ("Response", "Failure"),
        ("Channel", channel),
        ("Context", "from-internal"),
        ("Exten", number),
        ("Reason", "3"),
        ("Uniqueid", uniqueid),
        after=0.001,
    )


@pytest.mark.parametrize(
    ("channel", "requested", "local"),
    [
        ("PJSIP/1001-00000001", "PJSIP/1001", False),
        ("Local/1001@from-internal-00000001;1", "Local/1001@from-internal", True),
    ],
)
def test_an_unanswered_click_to_dial_is_outbound_to_the_number_it_was_to_dial(
    channel: str, requested: str, local: bool
) -> None:
    s = Stream()
    _unanswered_originate(s, channel, "3.1", local=local)
    _failure(s, requested, "+12125550147")
    call = _records(s)
    record = (call.direction, call.status, call.caller_number, call.callee_number)
    assert record == ("outbound", "failed", "1001", "+12125550147")
    assert call.agent is not None
    assert (call.answered_at, call.agent.extension, call.flags) == (None, "1001", {})
    created = CallEvent.objects.get(call=call, type="call.created")
    assert created.details == {"direction": "outbound", "from": "1001", "to": "+12125550147"}
    assert created.agent == call.agent


def test_an_unanswered_click_to_dial_to_an_extension_is_internal() -> None:
    s = Stream()
    _unanswered_originate(s, "PJSIP/1001-00000001", "4.1")
    _failure(s, "PJSIP/1001", "2001")
    call = _records(s)
    assert (call.direction, call.status, call.callee_number) == ("internal", "failed", "2001")


def test_an_originate_response_of_another_attempt_changes_nothing() -> None:
    # A response naming another channel (Uniqueid: that Originate's ChannelId), or coming
    # after the device's next call began (the one it belonged to was never answered for):
    # the failed call keeps what its own events said.
    s = Stream()
    _unanswered_originate(s, "PJSIP/1001-00000001", "5.1")
    _failure(s, "PJSIP/1001", "+12125550147", uniqueid="5.9")
    _unanswered_originate(s, "PJSIP/1001-00000002", "6.1")
    s.event("Newchannel", *Stream.channel("PJSIP/1001-00000003", "7.1", "7.1"))
    _failure(s, "PJSIP/1001", "+12125550148")
    org = seed_demo().organization
    translator = Translator(is_agent={"PJSIP/1001"}.__contains__)
    facts: list[te.Fact] = []
    for message in s.messages:
        facts += translator.translate(message)
    telephony_apply(organization_id=org.pk, connection_key="offline", events=facts)
    calls = Call.objects.filter(organization=org, external_id__in=["5.1", "6.1"])
    assert {(c.direction, c.callee_number) for c in calls} == {("internal", "")}
    assert len(calls) == 2
