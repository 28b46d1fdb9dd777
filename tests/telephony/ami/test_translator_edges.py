"""Translator rules the transcripts do not reach: a chan_sip phone's own call (its
channel appears Down, as an Originate's does), and a blind transfer whose call ends
before the transferee dials anyone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactcenter import facts as te
from contactcenter.models import Call
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
