"""Twilio recordings: recorded on the agent's <Dial> by policy, and the
recordingStatusCallback filling the Recording row (duplicated, reordered, forged)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client

from contactcenter.enums import CallEventType, CallSource, RecordingPolicy, RecordingStatus
from contactcenter.models import AuditEntry, Call, CallEvent, CallQueue, Recording
from telephony.models import TwilioAccount
from telephony.twilio import actions, twiml
from telephony.twilio.callbacks import Hints, webhook_path
from telephony.twilio.routing.ringing import records_all
from tests.conftest import Floor
from tests.factories import make_org
from tests.telephony.twilio import scenarios
from tests.telephony.twilio.recordings import (
    OTHER_RECORDING,
    RECORDING,
    answered_call,
    hung_up,
    recording_callback,
)
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    at,
    call_sid,
    deliver,
)

pytestmark = pytest.mark.django_db

PUBLIC = "https://cc.example.com"


def _send(request: Any, **kwargs: Any) -> int:
    return int(deliver(Client(), request, **kwargs).status_code)


def _recording() -> Recording:
    return Recording.objects.get(source=CallSource.TWILIO, leg_id=RECORDING)


def _dial(document: str) -> ET.Element:
    dial = ET.fromstring(document).find("Dial")
    assert dial is not None
    return dial


def test_the_dial_records_from_the_answer_and_reports_to_our_webhook() -> None:
    hints = Hints(agent="client:agent-7", queue="support")
    dial = _dial(twiml.dial(base_url=PUBLIC, client=hints.agent, hints=hints, record=True))
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == (
        f"{PUBLIC}/telephony/twilio/recording-status/?agent=client%3Aagent-7&queue=support"
    )
    assert dial.get("recordingStatusCallbackEvent") == "in-progress completed absent"
    assert dial.get("recordingStatusCallbackMethod") == "POST"
    plain = _dial(twiml.dial(base_url=PUBLIC, client=hints.agent, hints=hints))
    assert plain.get("record") is None and plain.get("recordingStatusCallback") is None


def test_the_queue_or_its_organization_says_whether_twilio_calls_are_recorded(
    floor_a: Floor, queue: CallQueue
) -> None:
    assert not records_all(queue)  # the default: none
    floor_a.org.recording_policy = RecordingPolicy.ALL
    floor_a.org.save()
    queue.refresh_from_db()
    assert records_all(queue)  # the queue has no policy of its own
    queue.recording_policy = RecordingPolicy.ON_DEMAND
    assert not records_all(queue)  # on demand: the agent asks
    queue.recording_policy = RecordingPolicy.ALL
    floor_a.org.recording_policy = RecordingPolicy.NONE
    assert records_all(queue)


def test_connect_agent_sends_the_recording_dial_through_twilios_api(
    account: TwilioAccount, twilio_api: Any
) -> None:
    twilio_api.add(ACCOUNT_SID, account.auth_token)
    result = actions.connect_agent(
        account, call_sid(1), agent="agent-7", queue="support", base_url=PUBLIC, record=True
    )
    assert result.ok
    [update] = twilio_api.wait_updates(1)
    dial = _dial(update.fields["Twiml"])
    assert dial.get("record") == "record-from-answer-dual"
    assert "/telephony/twilio/recording-status/" in (dial.get("recordingStatusCallback") or "")


def test_in_progress_then_completed_fill_one_row(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    assert _send(recording_callback("in-progress", agent=floor_a.agent)) == 204
    rec = _recording()
    call = Call.objects.get(source=CallSource.TWILIO, external_id=scenarios.PARENT)
    assert (rec.call_id, rec.status, rec.agent_id) == (call.pk, "recording", floor_a.agent.pk)
    assert rec.started_at == at(12)
    assert (rec.pbx_filename, rec.format) == (f"{RECORDING}.mp3", "mp3")
    call.refresh_from_db()
    assert call.flags["recording"] == "recording"
    assert _send(recording_callback("completed", agent=floor_a.agent, duration="47")) == 204
    rec.refresh_from_db()
    # No Twilio API here: the fetch found nothing, the file is still to come.
    assert (rec.status, rec.ended_at, rec.duration_seconds) == ("ended", at(59), 47)
    kinds = list(
        CallEvent.objects.filter(call=call, type__startswith="recording.").values_list(
            "type", flat=True
        )
    )
    assert sorted(kinds) == sorted(
        [
            CallEventType.RECORDING_STARTED,
            CallEventType.RECORDING_STARTED,
            CallEventType.RECORDING_STOPPED,
        ]
    )
    actions_audited = AuditEntry.objects.filter(object_type="contactcenter.recording")
    assert set(actions_audited.values_list("action", flat=True)) == {
        "recording.create",
        "recording.update",
    }


def test_duplicated_and_reordered_callbacks_change_nothing_more(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    completed = recording_callback("completed", agent=floor_a.agent, duration="30")
    assert _send(completed) == 204
    rec = _recording()
    assert (rec.status, rec.started_at, rec.duration_seconds) == ("ended", at(12), 30)
    events, audits = CallEvent.objects.count(), AuditEntry.objects.count()
    # Twilio's retry of the same request, then the in-progress it sent first.
    assert _send(completed) == 204
    assert _send(recording_callback("in-progress", agent=floor_a.agent)) == 204
    rec.refresh_from_db()
    assert (rec.status, rec.duration_seconds, rec.agent_id) == ("ended", 30, floor_a.agent.pk)
    assert (CallEvent.objects.count(), AuditEntry.objects.count()) == (events, audits)
    assert Recording.objects.count() == 1


def test_the_call_ending_first_ends_the_recording_and_completed_keeps_it_ended(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    assert _send(recording_callback("in-progress", agent=floor_a.agent)) == 204
    hung_up(floor_a.agent)
    rec = _recording()
    assert rec.status == RecordingStatus.ENDED
    assert _send(recording_callback("completed", agent=floor_a.agent)) == 204
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.ENDED


def test_an_absent_recording_fails_with_twilios_reason(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    assert _send(recording_callback("absent", agent=floor_a.agent, ErrorCode="13617")) == 204
    rec = _recording()
    assert (rec.status, rec.failure) == ("failed", "Twilio: recording absent (error 13617)")
    call = Call.objects.get(pk=rec.call_id)
    assert call.flags["recording"] == "failed"
    assert _send(recording_callback("in-progress", agent=floor_a.agent)) == 204
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.FAILED


def test_a_forged_callback_is_refused_and_writes_nothing(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    before = (CallEvent.objects.count(), AuditEntry.objects.count())
    request = recording_callback("completed", agent=floor_a.agent)
    assert _send(request, token="not-the-accounts-token") == 403
    unsigned = Client().post(request.path, request.fields)
    assert unsigned.status_code == 403
    assert not Recording.objects.exists()
    assert (CallEvent.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RecordingSid", "RE../../etc"),
        ("RecordingSid", ""),
        ("CallSid", "CA-not-a-sid"),
        ("RecordingStartTime", "yesterday"),
        ("RecordingDuration", "ten"),
    ],
)
def test_a_signed_callback_that_does_not_parse_is_400_and_writes_nothing(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor, field: str, value: str
) -> None:
    answered_call(floor_a.agent)
    request = recording_callback("completed", agent=floor_a.agent)
    request.fields[field] = value
    assert _send(request) == 400
    assert not Recording.objects.exists()


def test_a_conference_recording_or_an_unknown_status_is_acknowledged_and_ignored(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    conference = recording_callback("completed", agent=floor_a.agent)
    del conference.fields["CallSid"]
    conference.fields["ConferenceSid"] = "CF" + "12" * 16
    assert _send(conference) == 204
    assert _send(recording_callback("stopped", agent=floor_a.agent)) == 204
    assert not Recording.objects.exists()


def test_another_organizations_call_is_never_touched(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    other = make_org("Other")
    theirs = Call.objects.create(
        organization=other,
        source=CallSource.TWILIO,
        external_id=call_sid(77),
        direction="inbound",
        status="in_progress",
        started_at=at(0),
    )
    # Correctly signed by our account, naming their CallSid.
    request = recording_callback("completed", call_sid=theirs.external_id)
    assert _send(request) == 204
    assert not Recording.objects.filter(organization=other).exists()
    assert not Recording.objects.exists()


def test_each_recording_of_a_call_is_its_own_row(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    answered_call(floor_a.agent)
    assert _send(recording_callback("completed", agent=floor_a.agent, duration="20")) == 204
    # A transfer's <Dial> records the next agent's part under another RecordingSid.
    second = recording_callback(
        "completed",
        agent=floor_a.other_agent,
        recording_sid=OTHER_RECORDING,
        start=40,
        duration="25",
    )
    assert _send(second) == 204
    rows = list(
        Recording.objects.order_by("started_at").values_list("agent_id", "duration_seconds")
    )
    assert rows == [(floor_a.agent.pk, 20), (floor_a.other_agent.pk, 25)]


@pytest.mark.parametrize("policy", [RecordingPolicy.ALL, RecordingPolicy.NONE])
def test_an_agents_outbound_call_is_recorded_by_the_organizations_policy(
    account: TwilioAccount, floor_a: Floor, policy: str
) -> None:
    floor_a.org.recording_policy = policy
    floor_a.org.save()
    account.caller_id = OUR_NUMBER
    account.save()
    me = f"client:{floor_a.agent.twilio_identity}"
    browser = call_sid(21)
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": browser,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": me,
        "Caller": me,
        "To": CALLER,
    }
    response = deliver(Client(), TwilioRequest(webhook_path("client"), fields))
    assert response.status_code == 200
    dial = _dial(response.content.decode())
    if policy == RecordingPolicy.NONE:
        assert dial.get("record") is None
        return
    assert dial.get("record") == "record-from-answer-dual"
    callback = dial.get("recordingStatusCallback") or ""
    path = callback.removeprefix("http://testserver")
    assert path == webhook_path("recording-status", Hints(agent=me))
    completed = recording_callback("completed", call_sid=browser, duration="9")
    assert _send(TwilioRequest(path, completed.fields)) == 204
    rec = _recording()
    assert (rec.call.external_id, rec.agent_id, rec.duration_seconds) == (
        browser,
        floor_a.agent.pk,
        9,
    )


def test_a_recording_that_names_no_agent_is_the_calls_agents(
    account: TwilioAccount, queue: CallQueue, floor_a: Floor
) -> None:
    # A ring-all queue's <Dial> rings several agents: its callback URL names none.
    answered_call(floor_a.agent)
    assert _send(recording_callback("completed")) == 204
    assert _recording().agent_id == floor_a.agent.pk
