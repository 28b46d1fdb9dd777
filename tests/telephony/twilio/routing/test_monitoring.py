"""A supervisor listening to, whispering on and barging into a Twilio call that our own
routing connected (``<Dial><Client>``): the call is moved into a conference of its own
(telephony/twilio/moving.py) and the supervisor's client joins it. Twilio's side is the
fake REST API and twilioside.py, which send what Twilio documents for a redirected
child leg (its parent's Dial action) and for a conference that ends as a party leaves.
The records after each: one call, answered once, the talk time from that answer, who
hung up, the agent on a call throughout then in wrap-up, the timeline and the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from contactcenter.enums import (
    AgentState,
    CallEventType,
    CallStatus,
    HangupParty,
    QueueStrategy,
    RecordingStatus,
)
from contactcenter.models import Agent, AgentStateLog, AuditEntry, Call, CallEvent, Recording
from telephony.models import OfferStatus, TwilioOffer
from telephony.twilio.moving import room_for
from tests.conftest import Floor, client_for
from tests.contactcenter.recorded import tiny_wav
from tests.factories import make_agent
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.recordings import recording_callback
from tests.telephony.twilio.routing.conftest import routed_floor
from tests.telephony.twilio.routing.monitored import Monitored, connect, room, state, timeline
from tests.telephony.twilio.signed import deliver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


@pytest.fixture
def routed(floor_a: Floor, twilio_api: FakeTwilioAPI) -> Monitored:
    return connect(floor_a, twilio_api)


def test_listen_moves_the_routed_call_into_a_conference_and_the_call_goes_on(
    routed: Monitored, twilio_api: FakeTwilioAPI
) -> None:
    m, ring = routed, routed.ring
    answered = m.call.answered_at
    assert answered is not None
    response = m.monitor("listen")
    assert response.status_code == 200, response.content
    session = response.json()["session"]

    # The agent's leg (not the caller's: that would hang the agent up) got new TwiML.
    move = twilio_api.updates[-1]
    assert move.call_sid == ring.leg
    conference = ElementTree.fromstring(move.fields["Twiml"]).find("Dial/Conference")
    assert conference is not None
    name = room_for(ring.call)
    assert conference.text == name
    assert conference.attrib == {
        "participantLabel": "cc-agent",
        "startConferenceOnEnter": "true",
        "endConferenceOnExit": "true",
        "beep": "false",
        "waitUrl": "",
    }
    # The supervisor joined once the agent's leg was in the room, muted, unannounced.
    [joined] = twilio_api.conferences.joined
    assert (joined["Label"], joined["Muted"], joined["Coaching"], joined["Beep"]) == (
        m.label,
        "true",
        "false",
        "false",
    )
    assert joined["EndConferenceOnExit"] == "false"

    # Twilio asks for the caller's Dial action: the caller joins the same room.
    assert m.f.twilio.moved(ring) == name
    everyone = {ring.leg: "cc-agent", session: m.label, ring.call: "cc-caller"}
    assert room(twilio_api, name) == everyone
    record = m.record()
    assert (record.status, record.answered_at, record.ended_at) == (
        CallStatus.IN_PROGRESS,
        answered,
        None,
    )
    assert state(m.agent) == AgentState.ON_CALL
    offer = TwilioOffer.objects.get(call=m.call)
    assert (offer.status, offer.room) == (OfferStatus.CONNECTED, name)
    assert timeline(m) == [CallEventType.MONITOR_STARTED]

    # Stop: the supervisor leaves; the caller and the agent talk on.
    stopped = m.stop()
    assert stopped.status_code == 200, stopped.content
    assert twilio_api.conferences.removed == [m.label]
    assert room(twilio_api, name) == {ring.leg: "cc-agent", ring.call: "cc-caller"}
    assert m.record().ended_at is None
    assert state(m.agent) == AgentState.ON_CALL

    # The caller hangs up: the room ends, and so does the call, once.
    m.f.twilio.caller_hangs_up_in_room(ring)
    record = m.record()
    assert record.status == CallStatus.COMPLETED
    assert record.answered_at == answered
    assert record.hangup_by == HangupParty.CALLER
    assert record.talk_seconds is not None and record.ended_at is not None
    assert record.talk_seconds == int((record.ended_at - answered).total_seconds())
    assert Call.objects.filter(organization=m.f.floor.org).count() == 1
    assert timeline(m) == [
        CallEventType.MONITOR_STARTED,
        CallEventType.MONITOR_STOPPED,
        CallEventType.AGENT_COMPLETED,
        CallEventType.ENDED,
    ]
    assert TwilioOffer.objects.get(call=m.call).status == OfferStatus.DONE
    assert state(m.agent) == AgentState.WRAP_UP
    assert list(
        AgentStateLog.objects.filter(agent=m.agent)
        .order_by("started_at", "pk")
        .values_list("state", flat=True)
    ) == [AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP]
    asked = list(
        AuditEntry.objects.filter(action__startswith="pbx.monitor")
        .order_by("id")
        .values_list("action", "details__ok")
    )
    assert asked == [("pbx.monitor", True), ("pbx.monitor_stop", True)]
    # Who listened to which call, when, how long: the PBX's entries of the session.
    sessions = AuditEntry.objects.filter(action__in=("monitor.started", "monitor.stopped"))
    assert sorted(sessions.values_list("action", "details__session")) == [
        ("monitor.started", session),
        ("monitor.stopped", session),
    ]


def test_whisper_then_barge_switch_the_same_participant(
    routed: Monitored, twilio_api: FakeTwilioAPI
) -> None:
    m, ring = routed, routed.ring
    whisper = m.monitor("whisper")
    assert whisper.status_code == 200, whisper.content
    session = whisper.json()["session"]
    [joined] = twilio_api.conferences.joined
    assert (joined["Muted"], joined["Coaching"], joined["CallSidToCoach"]) == (
        "false",
        "true",
        ring.leg,  # the agent's leg, in the room before the supervisor
    )
    m.f.twilio.moved(ring)

    barge = m.monitor("barge")
    assert barge.status_code == 200, barge.content
    assert barge.json()["session"] == session
    assert len(twilio_api.conferences.joined) == 1  # the same monitoring call
    who, form = twilio_api.conferences.changed[-1]
    assert (who, form["Muted"], form["Coaching"]) == (m.label, "false", "false")
    # One move only: the second request found the call in its room.
    assert [u.call_sid for u in twilio_api.updates].count(ring.leg) == 1
    assert timeline(m) == [CallEventType.MONITOR_STARTED, CallEventType.MONITOR_MODE_CHANGED]
    switch = CallEvent.objects.get(call=m.call, type=CallEventType.MONITOR_MODE_CHANGED)
    assert (switch.details["session"], switch.details["from"], switch.details["mode"]) == (
        session,
        "whisper",
        "barge",
    )
    assert AuditEntry.objects.filter(action="monitor.mode_changed").count() == 1
    assert state(m.agent) == AgentState.ON_CALL


def test_the_agent_hangs_up_while_monitored(routed: Monitored, twilio_api: FakeTwilioAPI) -> None:
    m, ring = routed, routed.ring
    answered = m.call.answered_at
    assert answered is not None
    assert m.monitor("barge").status_code == 200
    m.f.twilio.moved(ring)
    m.f.twilio.agent_hangs_up_in_room(ring)
    record = m.record()
    assert record.status == CallStatus.COMPLETED
    assert (record.answered_at, record.hangup_by) == (answered, HangupParty.AGENT)
    assert record.ended_at is not None and record.talk_seconds == int(
        (record.ended_at - answered).total_seconds()
    )
    # The conference ended with the agent: the supervisor is out of it too.
    assert room(twilio_api, room_for(ring.call)) == {}
    # No transfer, no second end: the session ended with the room, the agent's part, the end.
    assert timeline(m) == [
        CallEventType.MONITOR_STARTED,
        CallEventType.AGENT_COMPLETED,
        CallEventType.MONITOR_STOPPED,
        CallEventType.ENDED,
    ]
    stopped = CallEvent.objects.get(call=m.call, type=CallEventType.MONITOR_STOPPED)
    assert stopped.details["mode"] == "barge" and "seconds" in stopped.details
    assert state(m.agent) == AgentState.WRAP_UP


def test_the_caller_hangs_up_while_the_supervisor_listens(
    routed: Monitored, twilio_api: FakeTwilioAPI
) -> None:
    m, ring = routed, routed.ring
    assert m.monitor("listen").status_code == 200
    m.f.twilio.moved(ring)
    m.f.twilio.caller_hangs_up_in_room(ring)
    record = m.record()
    assert (record.status, record.hangup_by) == (CallStatus.COMPLETED, HangupParty.CALLER)
    assert room(twilio_api, room_for(ring.call)) == {}
    assert state(m.agent) == AgentState.WRAP_UP
    assert timeline(m) == [
        CallEventType.MONITOR_STARTED,
        CallEventType.AGENT_COMPLETED,
        CallEventType.MONITOR_STOPPED,
        CallEventType.ENDED,
    ]
    # The call is over: nothing left to monitor.
    again = m.monitor("listen")
    assert again.status_code == 409, again.content
    assert again.json()["errors"][0]["code"] == "not_live"


def test_twilio_refusing_the_move_leaves_the_call_bridged(
    routed: Monitored, twilio_api: FakeTwilioAPI
) -> None:
    m, ring = routed, routed.ring
    twilio_api.gone.add(ring.leg)  # the agent's leg is gone from Twilio's side
    response = m.monitor("listen")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == "pbx_failed"
    assert twilio_api.conferences.joined == []
    offer = TwilioOffer.objects.get(call=m.call)
    assert (offer.status, offer.room) == (OfferStatus.CONNECTED, "")
    assert timeline(m) == []
    assert AuditEntry.objects.get(action="pbx.monitor").details["ok"] is False
    # The <Dial> goes on: its end is an agent's hang-up as ever.
    m.f.twilio.hang_up(ring)
    record = m.record()
    assert (record.status, record.hangup_by) == (CallStatus.COMPLETED, HangupParty.CALLER)


def test_no_phone_another_organization_and_an_agent_are_refused(
    routed: Monitored, floor_b: Floor, twilio_api: FakeTwilioAPI
) -> None:
    m = routed
    url = f"/api/v1/calls/{m.call.pk}/monitor/"
    Agent.objects.filter(user=m.f.floor.supervisor.user).delete()  # no phone of theirs
    no_phone = m.monitor("listen")
    assert no_phone.status_code == 409, no_phone.content
    assert no_phone.json()["errors"][0]["code"] == "no_phone"
    other = client_for(floor_b.supervisor).post(url, {"mode": "listen"}, format="json")
    assert other.status_code == 404
    agent = client_for(m.f.floor.agent_member).post(url, {"mode": "listen"}, format="json")
    assert agent.status_code == 403
    assert twilio_api.conferences.joined == []
    assert [u.call_sid for u in twilio_api.updates].count(m.ring.leg) == 0
    assert TwilioOffer.objects.get(call=m.call).room == ""


def test_a_recorded_call_is_recorded_on_after_the_move_and_both_recordings_are_fetched(
    floor_a: Floor,
    twilio_api: FakeTwilioAPI,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TWILIO_RECORDINGS_FORMAT = "wav"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    m = connect(floor_a, twilio_api, records=True)
    ring = m.ring
    dial = ElementTree.fromstring(twilio_api.updates[0].fields["Twiml"]).find("Dial")
    assert dial is not None and dial.get("record") == "record-from-answer-dual"
    assert m.monitor("listen").status_code == 200
    # The <Dial>'s recording ends with it: the rest is recorded on the caller's call.
    [started] = twilio_api.call_recordings
    assert started.fields["RecordingChannels"] == "dual"
    assert "agent=client%3A" in started.fields["RecordingStatusCallback"]
    m.f.twilio.moved(ring)
    audio = tiny_wav(tmp_path / "twilio.wav", seconds=1.0)
    dial_recording = "RE" + "d1" * 16
    for sid in (dial_recording, started.call_sid):
        twilio_api.media[sid] = audio
        report = recording_callback(
            "completed", agent=m.agent, recording_sid=sid, call_sid=ring.call, duration="20"
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(Client(), report).status_code == 204
    recordings = Recording.objects.filter(call=m.call).order_by("pk")
    assert [(r.leg_id, r.status, r.agent_id) for r in recordings] == [
        (dial_recording, RecordingStatus.DONE, m.agent.pk),
        (started.call_sid, RecordingStatus.DONE, m.agent.pk),
    ]


def test_a_ring_all_call_is_moved_with_the_agent_who_answered(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RINGALL)
    a, b = f.agents
    f.available(a, b)
    make_agent(floor_a.org, floor_a.supervisor)
    f.twilio.caller_arrives(1)
    rings = f.twilio.rings()
    winner = next(r for r in rings if r.identity == b.twilio_identity)
    f.twilio.answer(winner)
    for ring in rings:
        if ring is not winner:
            f.twilio.canceled(ring)
    call = Call.objects.get(external_id=winner.call)
    response = client_for(floor_a.supervisor).post(
        f"/api/v1/calls/{call.pk}/monitor/", {"mode": "whisper"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert twilio_api.conferences.joined[0]["CallSidToCoach"] == winner.leg
    # The ring-all <Dial>'s action names no agent: the offer says who is moved.
    f.twilio.moved(winner)
    assert state(b) == AgentState.ON_CALL
    f.twilio.agent_hangs_up_in_room(winner)
    record = Call.objects.get(pk=call.pk)
    assert (record.status, record.agent_id, record.hangup_by) == (
        CallStatus.COMPLETED,
        b.pk,
        HangupParty.AGENT,
    )
    assert TwilioOffer.objects.get(call=call, agent=b).status == OfferStatus.DONE
    assert state(b) == AgentState.AVAILABLE  # the queue has no wrap-up time
