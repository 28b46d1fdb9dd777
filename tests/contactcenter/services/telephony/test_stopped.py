"""A PBX that stops ends the calls it carried (contactcenter/services/telephony/stopped.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contactcenter import facts as te
from contactcenter.enums import CallDirection, CallEventType, CallStatus, HangupParty
from contactcenter.models import Call, CallEvent
from contactcenter.services.telephony import telephony_apply
from contactcenter.services.telephony.stopped import calls_end_for_stopped_pbx
from tests.conftest import Floor
from tests.factories import make_queue

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 14, 11, 0, 0, tzinfo=UTC)
CONNECTION = "asterisk:env"
REASON = "the demo stopped: its simulated PBX hung up"


def _start(org_id: int, key: str, *, connection: str = CONNECTION, answer: str = "") -> None:
    events: list[te.Fact] = [
        te.CallStarted(
            call_key=key,
            at=T0,
            dedup_key=f"{key}:1",
            direction=CallDirection.INBOUND,
            caller_number="+15557654321",
        ),
        te.QueueJoined(call_key=key, at=T0, dedup_key=f"{key}:2", queue="support"),
    ]
    if answer:
        events.append(
            te.CallAnswered(
                call_key=key,
                at=T0 + timedelta(seconds=5),
                dedup_key=f"{key}:3",
                agent=answer,
                queue="support",
            )
        )
    telephony_apply(organization_id=org_id, connection_key=connection, events=events)


def test_open_calls_of_the_stopped_pbx_end_and_no_others(floor_a: Floor, floor_b: Floor) -> None:
    make_queue(floor_a.org, "support")
    make_queue(floor_b.org, "support")
    org = floor_a.org.pk
    _start(org, "queued.1")
    _start(org, "answered.1", answer=floor_a.agent.interface)
    _start(org, "other-pbx.1", connection="asterisk:7")
    _start(floor_b.org.pk, "other-org.1")
    assert Call.objects.filter(status=CallStatus.QUEUED).count() == 3

    now = T0 + timedelta(seconds=30)
    ended = calls_end_for_stopped_pbx(
        organization_id=org, connection_key=CONNECTION, reason=REASON, at=now
    )
    assert ended == 2
    queued = Call.objects.get(external_id="queued.1")
    # Never answered: counted as offered, not as an abandon the caller never made.
    assert queued.status == CallStatus.FAILED
    answered = Call.objects.get(external_id="answered.1")
    assert answered.status == CallStatus.COMPLETED
    assert answered.talk_seconds == 25
    for call in (queued, answered):
        assert call.ended_at == now
        assert call.hangup_cause_text == REASON
        assert call.hangup_by == HangupParty.SYSTEM
        assert CallEvent.objects.filter(call=call, type=CallEventType.ENDED).count() == 1
    # Another PBX of the organization, and another organization, are not touched.
    assert Call.objects.get(external_id="other-pbx.1").status == CallStatus.QUEUED
    assert Call.objects.get(external_id="other-org.1").status == CallStatus.QUEUED

    again = calls_end_for_stopped_pbx(organization_id=org, connection_key=CONNECTION, reason=REASON)
    assert again == 0
