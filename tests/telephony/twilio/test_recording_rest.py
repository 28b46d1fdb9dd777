"""An agent records a Twilio call on demand and pauses it: the service, the telephony
port, the Twilio desk and Twilio's REST API (the fake, over HTTP, through twilio-python),
and back: what Twilio was asked, the Recording row, its timeline and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from contactcenter.enums import CallEventType, CallSource, CallStatus, RecordingPolicy
from contactcenter.errors import ApplicationError
from contactcenter.models import AuditEntry, Call, CallEvent, Recording
from contactcenter.services.call_control import PbxFailed
from contactcenter.services.recording_control import call_recording_pause, call_recording_start
from telephony.models import TwilioAccount
from tests.conftest import Floor
from tests.factories import make_call
from tests.telephony.twilio.recordings import recording_callback
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, call_sid, deliver

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = call_sid(1)
PUBLIC = "https://cc.example.com"


def twilio_call(
    floor: Floor, policy: str = RecordingPolicy.ON_DEMAND, customer: str = CUSTOMER
) -> Call:
    floor.org.recording_policy = policy
    floor.org.save()
    call = make_call(floor.org, agent=floor.agent, status=CallStatus.IN_PROGRESS)
    Call.objects.filter(pk=call.pk).update(
        source=CallSource.TWILIO, external_id=customer, connection_key=f"twilio:{ACCOUNT_SID}"
    )
    return Call.objects.select_related("organization", "queue").get(pk=call.pk)


@pytest.fixture
def api(account: TwilioAccount, twilio_api: Any, settings: Any) -> Any:
    settings.PUBLIC_URL = PUBLIC
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    return twilio_api


def start(call: Call, floor: Floor) -> Any:
    return async_to_sync(call_recording_start)(call=call, agent=floor.agent, timeout=5)


def pause(call: Call, floor: Floor, paused: bool) -> Any:
    return async_to_sync(call_recording_pause)(
        call=call, agent=floor.agent, paused=paused, timeout=5
    )


def test_start_pause_resume_and_the_callbacks_after(floor_a: Floor, api: Any) -> None:
    call = twilio_call(floor_a)
    result = start(call, floor_a)
    [started] = api.call_recordings
    sid = started.call_sid
    assert result.data == {"recording": sid}
    identity = f"client:{floor_a.agent.twilio_identity}"
    assert started.fields["RecordingStatusCallback"] == (
        f"{PUBLIC}/telephony/twilio/recording-status/?agent=client%3A{identity[7:]}"
    )
    assert (
        started.fields["RecordingChannels"],
        started.fields["RecordingStatusCallbackMethod"],
    ) == (
        "dual",
        "POST",
    )
    rec = Recording.objects.get()
    assert (rec.leg_id, rec.status, rec.agent_id) == (sid, "recording", floor_a.agent.pk)

    pause(call, floor_a, True)
    pause(call, floor_a, False)
    assert [u.fields for u in api.recording_updates] == [
        {"Status": "paused", "PauseBehavior": "skip"},
        {"Status": "in-progress"},
    ]
    rec.refresh_from_db()
    assert rec.status == "recording"
    [span] = rec.paused_spans
    assert span["start"] and span["end"]
    kinds = list(CallEvent.objects.filter(call=call).order_by("id").values_list("type", flat=True))
    assert kinds.count(CallEventType.RECORDING_PAUSED) == 1
    assert kinds.count(CallEventType.RECORDING_RESUMED) == 1
    asked = list(
        AuditEntry.objects.filter(action__startswith="pbx.recording")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert asked == ["pbx.recording_start", "pbx.recording_pause", "pbx.recording_pause"]

    # Twilio's callbacks then say what is known, and end it.
    client = Client()
    in_progress = recording_callback("in-progress", agent=floor_a.agent, recording_sid=sid)
    assert deliver(client, in_progress).status_code == 204
    completed = recording_callback(
        "completed", agent=floor_a.agent, recording_sid=sid, duration="30"
    )
    assert deliver(client, completed).status_code == 204
    rec.refresh_from_db()
    assert (rec.status, Recording.objects.count()) == ("ended", 1)
    assert rec.paused_spans == [span]


def test_a_call_recorded_already_or_by_a_policy_that_does_not_is_refused(
    floor_a: Floor, api: Any
) -> None:
    call = twilio_call(floor_a)
    start(call, floor_a)
    with pytest.raises(ApplicationError) as again:
        start(call, floor_a)
    assert again.value.code == "already_recording"
    off = twilio_call(floor_a, RecordingPolicy.NONE, customer=call_sid(9))
    with pytest.raises(ApplicationError) as refused:
        start(off, floor_a)
    assert refused.value.code == "recording_off"
    assert len(api.call_recordings) == 1


def test_twilios_refusal_is_the_agents_error_and_writes_no_recording(
    floor_a: Floor, api: Any
) -> None:
    call = twilio_call(floor_a)
    api.gone.add(CUSTOMER)  # the caller hung up meanwhile
    with pytest.raises(PbxFailed):
        start(call, floor_a)
    assert not Recording.objects.exists()
    entry = AuditEntry.objects.get(action="pbx.recording_start")
    assert entry.details["ok"] is False


def test_pausing_a_call_with_no_recording_asks_twilio_nothing(floor_a: Floor, api: Any) -> None:
    call = twilio_call(floor_a)
    with pytest.raises(ApplicationError) as refused:
        pause(call, floor_a, True)
    assert refused.value.code == "not_recording"
    assert api.recording_updates == []
