"""A disposition from the PBX: the dialplan sets CC_DISPOSITION on the call's channel.

The recorded transcript of an answered queue call (01, in tests/telephony/transcripts)
with VarSet AMI frames spliced in, as Asterisk sends them for ``Set(CC_DISPOSITION=complaint)``
(plus dialplan noise), read by the Translator and applied to the database: the call gets
the disposition, and the CRM's rules open its case and follow-up (Celery eager, after
commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contactcenter import facts as te
from contactcenter.models import Agent, Call, CallDisposition, CallEvent
from contactcenter.services.calls import call_set_disposition
from contactcenter.services.telephony import telephony_apply
from crm.models import Case, FollowUp
from provisioning.demo import seed_demo
from telephony.ami.frames import AmiMessage, parse_frames
from telephony.ami.translator import Translator
from tests.telephony.expectations import TRANSCRIPT_DIR

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
CALL_KEY = "1741950000.1"
AGENT_HANGUP = b"Event: Hangup\r\nPrivilege: call,all\r\nTimestamp: 1741950126.638920\r\n"


def varset(variable: str, value: str, timestamp: str, *, on_agent_leg: bool = True) -> bytes:
    channel, uniqueid = (
        ("PJSIP/1001-00000002", "1741950000.2")
        if on_agent_leg
        else ("PJSIP/trunk-00000001", "1741950000.1")
    )
    lines = [
        "Event: VarSet",
        "Privilege: dialplan,all",
        f"Timestamp: {timestamp}",
        f"Channel: {channel}",
        "ChannelState: 6",
        "ChannelStateDesc: Up",
        "Context: from-internal",
        "Exten: *55",
        "Priority: 1",
        f"Uniqueid: {uniqueid}",
        f"Linkedid: {CALL_KEY}",
        f"Variable: {variable}",
        f"Value: {value}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def transcript(*frames: bytes, after_hangup: bytes = b"") -> list[AmiMessage]:
    """Transcript 01 with the given AMI frames before the agent's hangup, ``after_hangup``
    at the end."""
    data = (TRANSCRIPT_DIR / "01_inbound_queue_answered.ami").read_bytes().replace(b"\r\n", b"\n")
    data = data.replace(b"\n", b"\r\n")
    hangup = AGENT_HANGUP
    assert data.count(hangup) == 1
    data = data.replace(hangup, b"".join(frames) + hangup) + after_hangup
    return [f for f in parse_frames(data) if isinstance(f, AmiMessage)]


def translate(messages: list[AmiMessage]) -> list[te.Fact]:
    translator = Translator(is_agent={"PJSIP/1001", "PJSIP/1002"}.__contains__)
    return [fact for msg in messages for fact in translator.translate(msg)]


def apply(org_id: int, facts: list[te.Fact], batch: int) -> None:
    for start in range(0, len(facts), batch):
        telephony_apply(
            organization_id=org_id, connection_key="offline", events=facts[start : start + batch]
        )


def test_translator_keeps_only_the_disposition_variable() -> None:
    facts = translate(
        transcript(
            varset("QUEUEPOSITION", "1", "1741950126.600000"),
            varset("__CC_DISPOSITION", "complaint", "1741950126.630000"),
            varset("CC_DISPOSITION", "", "1741950126.631000"),  # cleared: nothing to say
        )
    )
    reported = [f for f in facts if isinstance(f, te.DispositionReported)]
    assert len(reported) == 1
    assert reported[0].call_key == CALL_KEY
    assert reported[0].code == "complaint"
    assert reported[0].dedup_key.endswith(":complaint")
    assert reported[0].at.timestamp() == pytest.approx(1741950126.63)


def test_disposition_set_after_every_leg_hung_up_still_finds_the_call() -> None:
    late = varset("CC_DISPOSITION", "billing", "1741950130.000000", on_agent_leg=False)
    facts = translate(transcript(after_hangup=late))
    assert isinstance(facts[-1], te.DispositionReported)
    assert (facts[-1].call_key, facts[-1].code) == (CALL_KEY, "billing")


@pytest.mark.parametrize("batch", [1, 1000])
def test_pbx_disposition_opens_the_case_once(
    batch: int, django_capture_on_commit_callbacks: Capture
) -> None:
    org = seed_demo().organization
    facts = translate(transcript(varset("CC_DISPOSITION", "complaint", "1741950126.630000")))
    with django_capture_on_commit_callbacks(execute=True):
        apply(org.pk, facts, batch)
    call = Call.objects.get(organization=org, external_id=CALL_KEY)
    assert call.disposition is not None and call.disposition.code == "complaint"
    assert call.disposition_set_by is None
    assert call.disposition_set_at is not None
    assert call.disposition_set_at.timestamp() == pytest.approx(1741950126.63)
    entry = call.events.get(type="disposition.set")
    assert entry.dedup_key.endswith(":complaint")
    case = Case.objects.get(source_call=call)
    assert case.assigned_agent == Agent.objects.get(organization=org, extension="1001")
    assert case.contact is not None and case.contact.first_name == "John"  # a known caller
    assert FollowUp.objects.filter(source_call=call).count() == 1

    # The same stream again (a replay after a reconnect): nothing new.
    counts = (CallEvent.objects.count(), Case.objects.count(), FollowUp.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        apply(org.pk, facts, batch)
    assert (CallEvent.objects.count(), Case.objects.count(), FollowUp.objects.count()) == counts


def test_a_replay_does_not_undo_a_later_change(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    org = seed_demo().organization
    facts = translate(transcript(varset("CC_DISPOSITION", "billing", "1741950126.630000")))
    with django_capture_on_commit_callbacks(execute=True):
        apply(org.pk, facts, 1000)
    call = Call.objects.get(organization=org, external_id=CALL_KEY)
    resolved = CallDisposition.objects.get(organization=org, code="resolved")
    with django_capture_on_commit_callbacks(execute=True):
        call_set_disposition(call=call, disposition=resolved, actor=None)
    # The VarSet again, with a new key (say, the PBX sent it without a Timestamp).
    replayed = [
        te.DispositionReported(
            call_key=CALL_KEY, at=facts[-1].at, dedup_key="ami:replayed", code="billing"
        )
    ]
    with django_capture_on_commit_callbacks(execute=True):
        apply(org.pk, replayed, 1)
    call.refresh_from_db()
    assert call.disposition == resolved
    case = Case.objects.get(source_call=call)
    assert list(case.history.values_list("field", "old_value", "new_value")) == [
        ("disposition", "billing", "resolved")
    ]


def test_unknown_code_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Capture
) -> None:
    org = seed_demo().organization
    facts = translate(transcript(varset("CC_DISPOSITION", "no-such-code", "1741950126.630000")))
    with django_capture_on_commit_callbacks(execute=True):
        apply(org.pk, facts, 1000)
    call = Call.objects.get(organization=org, external_id=CALL_KEY)
    assert call.disposition is None
    assert call.status == "completed"  # the rest of the batch was applied
    assert "disposition 'no-such-code' for call 1741950000.1 skipped" in caplog.text
    assert not Case.objects.exists()
