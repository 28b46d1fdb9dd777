"""The Translator's monitoring rules (telephony/ami/spying.py) without a PBX: the
monitoring leg is no call, ChanSpyStart/Stop become facts, and a resync that lists a
live monitoring leg does not make a call of it."""

from __future__ import annotations

from contactcenter import facts as te
from telephony.ami.frames import AmiMessage
from telephony.ami.resync import resync_calls
from telephony.ami.translator import Translator

AGENT = [("Channel", "PJSIP/1001-00000002"), ("Uniqueid", "1.2"), ("Linkedid", "1.1")]
SPY = [("Channel", "PJSIP/2001-00000009"), ("Uniqueid", "9.9"), ("Linkedid", "9.9")]


def _event(name: str, second: int, *pairs: tuple[str, str]) -> AmiMessage:
    return AmiMessage.of(("Event", name), ("Timestamp", f"1741970{second:03d}.000000"), *pairs)


def _prefixed(prefix: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(prefix + key, value) for key, value in pairs]


def _translator() -> Translator:
    translator = Translator(is_agent={"PJSIP/1001"}.__contains__)
    caller = [("Channel", "PJSIP/trunk-00000001"), ("Uniqueid", "1.1"), ("Linkedid", "1.1")]
    for second, pairs in ((1, caller), (2, AGENT)):
        translator.translate(_event("Newchannel", second, *pairs, ("ChannelState", "0")))
    return translator


def test_a_monitoring_session_is_two_facts_on_the_spied_call() -> None:
    translator = _translator()
    translator.expect_spy(channel_id="9.9", mode="whisper")
    assert translator.translate(_event("Newchannel", 3, *SPY, ("ChannelState", "0"))) == []
    assert translator.translate(_event("Newstate", 4, *SPY, ("ChannelState", "6"))) == []
    assert "9.9" not in translator.state.legs
    spying = [*_prefixed("Spyer", SPY), *_prefixed("Spyee", AGENT)]
    (started,) = translator.translate(_event("ChanSpyStart", 5, *spying))
    assert isinstance(started, te.MonitorStarted)
    assert (started.call_key, started.session, started.mode) == ("1.1", "9.9", "whisper")
    assert (started.phone, started.agent) == ("PJSIP/2001", "PJSIP/1001")
    (stopped,) = translator.translate(_event("ChanSpyStop", 6, *spying))
    assert isinstance(stopped, te.MonitorStopped)
    assert stopped.dedup_key != started.dedup_key
    # Its hang-up after a ChanSpyStop adds nothing, and forgets the session.
    assert translator.translate(_event("Hangup", 7, *SPY, ("Cause", "16"))) == []
    assert translator.state.spies == {}


def test_without_a_chanspystop_the_hangup_ends_the_session() -> None:
    translator = _translator()
    translator.expect_spy(channel_id="9.9", mode="barge")
    translator.translate(_event("Newchannel", 3, *SPY, ("ChannelState", "0")))
    spying = [*_prefixed("Spyer", SPY), *_prefixed("Spyee", AGENT)]
    translator.translate(_event("ChanSpyStart", 4, *spying))
    (stopped,) = translator.translate(_event("Hangup", 9, *SPY, ("Cause", "16")))
    assert isinstance(stopped, te.MonitorStopped)
    assert (stopped.call_key, stopped.mode) == ("1.1", "barge")


def test_a_resync_makes_no_call_of_a_monitoring_leg() -> None:
    translator = _translator()
    rows = [
        AmiMessage.of(*AGENT, ("Application", "AppQueue"), ("BridgeId", "b1")),
        AmiMessage.of(
            ("Channel", "PJSIP/trunk-00000001"),
            ("Uniqueid", "1.1"),
            ("Linkedid", "1.1"),
            ("Application", "Queue"),
            ("BridgeId", "b1"),
        ),
        AmiMessage.of(*SPY, ("Application", "ChanSpy"), ("ApplicationData", "PJSIP/1001,q")),
    ]
    facts = resync_calls(translator, channels=rows, connection="asterisk:1")
    done = facts[-1]
    assert isinstance(done, te.ResyncCompleted)
    assert done.live_call_keys == frozenset({"1.1"})
    assert translator.state.spies["9.9"].phone == "PJSIP/2001"
