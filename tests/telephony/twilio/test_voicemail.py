"""A Twilio queue's voicemail exit: the <Record> TwiML, and its three reports (the
action, the recordingStatusCallback, the transcribeCallback) duplicated, reordered and
forged, with the fields Twilio really sends (no From, To or CallStatus on the recording
status; the action requested after a hang-up; undocumented extra fields)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contactcenter.enums import CallSource
from contactcenter.models import AuditEntry, CallQueue, Voicemail, VoicemailMedia
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.voicemail_files import NEVER_ARRIVED
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from telephony.twilio.voicemail_media import (
    twilio_voicemail_delete,
    twilio_voicemail_fetch,
    twilio_voicemails_fetch_due,
)
from tests.conftest import Floor
from tests.contactcenter.recorded import tiny_wav
from tests.contactcenter.voicemailed import queue_with
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    call_sid,
    deliver,
    stamp,
)

pytestmark = pytest.mark.django_db

CALL = call_sid(41)
RECORDING = "RE" + "7a" * 16
HINTS = Hints(queue="support")


def _send(request: TwilioRequest, **kwargs: Any) -> Any:
    return deliver(Client(), request, **kwargs)


def _caller_waits() -> None:
    """The caller's call, as the voice webhook starts it: in the support queue."""
    voice = TwilioRequest(
        webhook_path("voice", HINTS),
        {
            "AccountSid": ACCOUNT_SID,
            "CallSid": CALL,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "From": CALLER,
            "To": OUR_NUMBER,
            "Timestamp": stamp(0),
        },
    )
    assert _send(voice).status_code == 200


def _call_fields(**extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL,
        "From": CALLER,
        "To": OUR_NUMBER,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


def _done(**extra: str) -> TwilioRequest:
    values = {
        "RecordingSid": RECORDING,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        "RecordingDuration": "14",
        "Digits": "#",
        **extra,
    }
    return TwilioRequest(webhook_path("voicemail-done", HINTS), _call_fields(**values))


def _status(status: str = "completed") -> TwilioRequest:
    # Twilio's recordingStatusCallback: no From, To or CallStatus.
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL,
        "RecordingSid": RECORDING,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        "RecordingStatus": status,
        "RecordingDuration": "14" if status == "completed" else "-1",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": "Fri, 14 Mar 2025 11:00:30 +0000",
        "ErrorCode": "0",
    }
    return TwilioRequest(webhook_path("voicemail-recording", HINTS), fields)


def _transcription(text: str = "Hi, my order 1234 never came, please call me") -> TwilioRequest:
    fields = _call_fields(
        RecordingSid=RECORDING,
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        TranscriptionSid="TR" + "1b" * 16,
        TranscriptionText=text,
        TranscriptionStatus="completed",
        TranscriptionType="fast",  # undocumented, as Twilio sends it
        url="https://api.twilio.com/2010-04-01/Accounts/x/Transcriptions/y",
    )
    return TwilioRequest(webhook_path("voicemail-transcription", HINTS), fields)


def _voicemails() -> list[Voicemail]:
    return list(Voicemail.objects.filter(source=CallSource.TWILIO))


def test_the_exit_asks_for_a_message_reported_to_our_signed_webhooks(
    account: TwilioAccount,
) -> None:
    answer = _send(TwilioRequest(webhook_path("voicemail", HINTS), _call_fields()))
    assert answer.status_code == 200
    record = ET.fromstring(answer.content).find("Record")
    assert record is not None
    assert record.get("action") == "/telephony/twilio/voicemail-done/?queue=support"
    assert record.get("recordingStatusCallback") == (
        "/telephony/twilio/voicemail-recording/?queue=support"
    )
    assert record.get("recordingStatusCallbackEvent") == "completed absent"
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == (
        "/telephony/twilio/voicemail-transcription/?queue=support"
    )
    assert not _voicemails()  # asking is not leaving


@pytest.mark.parametrize(
    "order",
    [
        ("done", "status", "transcription"),
        ("transcription", "status", "done"),
        ("status", "transcription", "status", "done", "transcription", "done"),
    ],
)
def test_the_reports_in_any_order_and_repeated_make_one_voicemail(
    floor_a: Floor, account: TwilioAccount, order: tuple[str, ...]
) -> None:
    queue: CallQueue = queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    requests = {"done": _done(), "status": _status(), "transcription": _transcription()}
    for name in order:
        response = _send(requests[name])
        assert response.status_code in (200, 204), (name, response.content)
    (vm,) = _voicemails()
    assert (vm.organization_id, vm.queue_id, vm.leg_id) == (floor_a.org.pk, queue.pk, CALL)
    assert vm.call is not None and vm.call.external_id == CALL
    assert vm.caller_number == CALLER
    assert (vm.recording_sid, vm.duration_seconds) == (RECORDING, 14)
    assert vm.transcription == "Hi, my order 1234 never came, please call me"
    assert vm.transcription_status == "completed"
    assert (vm.status, vm.media) == ("new", VoicemailMedia.WAITING)
    created = AuditEntry.objects.filter(action="voicemail.create", object_id=str(vm.pk))
    assert created.count() == 1


def test_the_action_after_a_hang_up_still_keeps_the_message(
    floor_a: Floor, account: TwilioAccount
) -> None:
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    answer = _send(_done(Digits="hangup", CallStatus="completed"))
    assert answer.status_code == 200
    assert b"<Hangup" in answer.content
    (vm,) = _voicemails()
    assert vm.recording_sid == RECORDING


def test_no_audio_keeps_the_voicemail_without_media(floor_a: Floor, account: TwilioAccount) -> None:
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    assert _send(_status("absent")).status_code == 204
    (vm,) = _voicemails()
    assert (vm.media, vm.failure) == (VoicemailMedia.FAILED, "Twilio: absent")


def test_forged_reports_are_refused_and_write_nothing(
    floor_a: Floor, account: TwilioAccount
) -> None:
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    before = AuditEntry.objects.count()
    for request in (_done(), _status(), _transcription()):
        forged = _send(request, token="not-the-accounts-token")
        assert forged.status_code == 403
    unsigned = Client().post(_status().path, _status().fields)
    assert unsigned.status_code == 403
    assert not _voicemails()
    assert AuditEntry.objects.count() == before


def test_signed_nonsense_is_a_400_and_writes_nothing(
    floor_a: Floor, account: TwilioAccount
) -> None:
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    bad_sid = _status()
    bad_sid.fields["RecordingSid"] = "RE../../etc/passwd"
    assert _send(bad_sid).status_code == 400
    bad_status = _status("exploded")
    assert _send(bad_status).status_code == 400
    bad_duration = _done(RecordingDuration="-3")
    assert _send(bad_duration).status_code == 400
    assert not _voicemails()


@pytest.fixture
def store(settings: Any, tmp_path: Path) -> Path:
    settings.RECORDINGS_FILE_TIMEOUT_SECONDS = 600
    settings.TWILIO_RECORDINGS_FORMAT = "wav"
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "store"


def test_the_audio_is_fetched_from_twilios_api_into_the_store(
    floor_a: Floor,
    account: TwilioAccount,
    store: Path,
    twilio_api: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    audio = tiny_wav(tmp_path / "message.wav", seconds=1.0)
    twilio_api.media[RECORDING] = audio
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(_status()).status_code == 204  # its fetch task runs after the commit
    (vm,) = _voicemails()
    assert (vm.media, vm.format, vm.size_bytes) == (VoicemailMedia.STORED, "wav", len(audio))
    with recordings_storage().open(vm.storage_key, "rb") as stored:
        assert stored.read() == audio
    [(path, authorization)] = twilio_api.media_asked
    # Built from the SIDs with the account's credentials, not from the RecordingUrl sent.
    assert path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}.wav"
    assert authorization.startswith("Basic ")
    assert AuditEntry.objects.filter(action="voicemail.store", object_id=str(vm.pk)).exists()


def test_audio_twilio_never_has_fails_after_the_timeout(
    floor_a: Floor, account: TwilioAccount, store: Path, twilio_api: Any
) -> None:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)  # no media for the recording: 404
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    _send(_done())
    (vm,) = _voicemails()
    assert twilio_voicemail_fetch(voicemail_id=vm.pk) == ""  # not yet: asked again later
    later = timezone.now() + timedelta(seconds=601)
    assert twilio_voicemails_fetch_due(now=later) == 1
    vm.refresh_from_db()
    assert (vm.media, vm.failure, vm.status) == (VoicemailMedia.FAILED, NEVER_ARRIVED, "new")


def test_the_account_may_delete_twilios_copy_once_ours_is_stored(
    floor_a: Floor,
    account: TwilioAccount,
    store: Path,
    twilio_api: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account.recordings_delete_after_copy = True
    account.save()
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    twilio_api.media[RECORDING] = tiny_wav(tmp_path / "message.wav")
    queue_with(floor_a.org, floor_a.agent)
    _caller_waits()
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(_status()).status_code == 204
    (vm,) = _voicemails()
    assert vm.media == VoicemailMedia.STORED
    assert twilio_api.deleted == [RECORDING]
    entry = AuditEntry.objects.get(action="voicemail.twilio_delete", object_id=str(vm.pk))
    assert entry.details == {"recording_sid": RECORDING, "already_gone": False}
    # Asked again (a redelivered task): Twilio no longer has it, which counts as deleted.
    assert twilio_voicemail_delete(voicemail_id=vm.pk)
