"""A supervisor listening on Twilio hangs up their own softphone: their participant was
created with a status callback for its leg's end (telephony/twilio/coaching.py), which
Twilio requests once the leg is over (twilioside.py sends it, fakeconference.py keeps the
URL given), and the session ends there: ``monitor.stopped`` on the call's timeline and in
the audit trail, once, while the caller and the agent talk on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from contactcenter.enums import AgentState, CallEventType, CallStatus
from contactcenter.models import AuditEntry, CallEvent
from telephony.twilio.moving import room_for
from tests.conftest import Floor
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.monitored import Monitored, connect, room, state, timeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


@pytest.fixture
def routed(floor_a: Floor, twilio_api: FakeTwilioAPI) -> Monitored:
    return connect(floor_a, twilio_api)


def test_the_supervisor_hanging_up_their_softphone_ends_the_session(
    routed: Monitored, twilio_api: FakeTwilioAPI
) -> None:
    m, ring = routed, routed.ring
    response = m.monitor("whisper")
    assert response.status_code == 200, response.content
    session = response.json()["session"]
    m.f.twilio.moved(ring)
    [joined] = twilio_api.conferences.joined
    url = urlsplit(joined["StatusCallback"])
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "cc.example.com",
        "/telephony/twilio/monitor-status/",
    )
    assert parse_qs(url.query) == {"monitored": [ring.call]}
    assert joined["StatusCallbackEvent"] == "completed"

    assert m.f.twilio.supervisor_hangs_up(m.label) == session
    assert timeline(m) == [CallEventType.MONITOR_STARTED, CallEventType.MONITOR_STOPPED]
    stopped = CallEvent.objects.get(call=m.call, type=CallEventType.MONITOR_STOPPED)
    assert (stopped.details["session"], stopped.details["mode"]) == (session, "whisper")
    assert isinstance(stopped.details["seconds"], int)
    sessions = AuditEntry.objects.filter(action__in=("monitor.started", "monitor.stopped"))
    assert sorted(sessions.values_list("action", "details__session")) == [
        ("monitor.started", session),
        ("monitor.stopped", session),
    ]
    # The caller and the agent talk on in their room.
    assert room(twilio_api, room_for(ring.call)) == {ring.leg: "cc-agent", ring.call: "cc-caller"}
    record = m.record()
    assert (record.status, record.ended_at) == (CallStatus.IN_PROGRESS, None)
    assert state(m.agent) == AgentState.ON_CALL
    # Stop from the screen now: nothing of theirs is live; no second stop.
    late = m.stop()
    assert late.status_code == 400, late.content
    m.f.twilio.caller_hangs_up_in_room(ring)
    assert timeline(m) == [
        CallEventType.MONITOR_STARTED,
        CallEventType.MONITOR_STOPPED,
        CallEventType.AGENT_COMPLETED,
        CallEventType.ENDED,
    ]
    assert AuditEntry.objects.filter(action="monitor.stopped").count() == 1
