"""Twilio's recording media into our store, through the local Twilio stand-in
(fakeapi.py, over a real socket): fetched with the account's credentials, checked,
deleted from Twilio when the account says so, retried, and failed when it never comes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models import AuditEntry, Call, CallEvent, Recording
from contactcenter.services.recording_files import NEVER_ARRIVED, recordings_storage
from contactcenter.services.recording_retention import recordings_purge_for_calls
from telephony.models import TwilioAccount
from telephony.twilio.recording_media import (
    DeleteLater,
    FetchLater,
    twilio_recording_delete,
    twilio_recording_fetch,
    twilio_recordings_fetch_due,
)
from tests.conftest import Floor
from tests.contactcenter.recorded import tiny_wav
from tests.telephony.twilio.recordings import (
    RECORDING,
    answered_call,
    hung_up,
    recording_callback,
)
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, deliver

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def api(twilio_api: Any) -> Any:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    return twilio_api


@pytest.fixture
def audio(tmp_path: Path) -> bytes:
    return tiny_wav(tmp_path / "twilio.wav", seconds=1.0)


@dataclass(frozen=True)
class World:
    """Floor A's Twilio account (the stand-in knows its credentials), the recordings
    store and a second of audio Twilio may serve."""

    floor: Floor
    account: TwilioAccount
    api: Any
    store: Path
    audio: bytes
    on_commit: Any  # django_capture_on_commit_callbacks

    def complete(self) -> Recording:
        """The call answered, then Twilio's completed callback; its fetch task runs
        after the commit (Celery eager in the tests)."""
        answered_call(self.floor.agent)
        with self.on_commit(execute=True):
            response = deliver(Client(), recording_callback("completed", agent=self.floor.agent))
        assert response.status_code == 204
        return Recording.objects.get(source=CallSource.TWILIO, leg_id=RECORDING)


@pytest.fixture
def world(
    account: TwilioAccount,
    queue: Any,
    floor_a: Floor,
    store: Path,
    api: Any,
    audio: bytes,
    django_capture_on_commit_callbacks: Any,
) -> World:
    return World(
        floor=floor_a,
        account=account,
        api=api,
        store=store,
        audio=audio,
        on_commit=django_capture_on_commit_callbacks,
    )


def test_a_completed_recording_is_fetched_checked_and_stored(world: World) -> None:
    world.api.media[RECORDING] = world.audio
    rec = world.complete()  # the callback's task ran (Celery eager in the tests)
    assert rec.status == RecordingStatus.DONE
    assert (rec.size_bytes, rec.format) == (len(world.audio), "wav")
    with recordings_storage().open(rec.storage_key, "rb") as stored:
        assert stored.read() == world.audio
    [(path, authorization)] = world.api.media_asked
    assert path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}.wav"
    assert authorization.startswith("Basic ")  # the account's SID and token
    entry = AuditEntry.objects.get(action="recording.store", object_id=str(rec.pk))
    assert len(entry.details["sha256"]) == 64
    assert world.api.deleted == []  # the account keeps Twilio's copy by default
    assert world.api.media[RECORDING] == world.audio


def test_the_account_may_delete_twilios_copy_once_ours_is_checked(world: World) -> None:
    world.account.recordings_delete_after_copy = True
    world.account.save()
    world.api.media[RECORDING] = world.audio
    rec = world.complete()
    assert rec.status == RecordingStatus.DONE
    assert world.api.deleted == [RECORDING]
    assert RECORDING not in world.api.media
    entry = AuditEntry.objects.get(action="recording.twilio_delete", object_id=str(rec.pk))
    assert entry.details == {"recording_sid": RECORDING, "already_gone": False, "after": "copy"}
    # Asked again (a redelivered task): Twilio no longer has it, which counts as deleted.
    assert twilio_recording_delete(recording_id=rec.pk)


def test_a_refused_deletion_is_retried_and_the_copy_stays(world: World) -> None:
    world.api.media[RECORDING] = world.audio
    rec = world.complete()
    world.account.recordings_delete_after_copy = True
    world.account.save()
    world.api.tokens[ACCOUNT_SID] = "rotated-at-twilio"  # Twilio refuses our token now
    with pytest.raises(DeleteLater):
        twilio_recording_delete(recording_id=rec.pk)
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.DONE
    assert world.api.media[RECORDING] == world.audio


def test_media_not_processed_yet_is_asked_again_by_the_beat(world: World) -> None:
    rec = world.complete()  # Twilio answers 404: not there yet
    assert rec.status == RecordingStatus.ENDED
    assert twilio_recordings_fetch_due() == 0
    world.api.media[RECORDING] = world.audio
    assert twilio_recordings_fetch_due() == 1
    rec.refresh_from_db()
    assert (rec.status, rec.size_bytes) == (RecordingStatus.DONE, len(world.audio))


def test_an_error_is_retried_and_a_cut_transfer_is_never_stored(world: World) -> None:
    world.api.failures = 5  # the callback's own try meets an error too
    rec = world.complete()
    world.api.failures = 1
    with pytest.raises(FetchLater, match="HTTP 500"):
        twilio_recording_fetch(recording_id=rec.pk)
    world.api.media[RECORDING] = world.audio
    world.api.cut.add(RECORDING)
    with pytest.raises(FetchLater, match=r"IncompleteRead|ChunkedEncodingError|received"):
        twilio_recording_fetch(recording_id=rec.pk)
    rec.refresh_from_db()
    assert (rec.status, rec.storage_key) == (RecordingStatus.ENDED, "")
    assert not world.store.exists() or not any(p.is_file() for p in world.store.rglob("*"))
    world.api.cut.clear()
    assert twilio_recording_fetch(recording_id=rec.pk) == RecordingStatus.DONE


def test_media_that_never_comes_fails_the_recording_after_the_timeout(world: World) -> None:
    rec = world.complete()
    soon = timezone.now() + timedelta(seconds=599)
    assert twilio_recording_fetch(recording_id=rec.pk, now=soon) == ""
    late = timezone.now() + timedelta(seconds=601)
    assert twilio_recordings_fetch_due(now=late) == 1
    rec.refresh_from_db()
    assert (rec.status, rec.failure) == (RecordingStatus.FAILED, NEVER_ARRIVED)
    assert AuditEntry.objects.filter(action="recording.fail", object_id=str(rec.pk)).exists()


def test_the_shared_volume_collector_leaves_twilios_recordings_alone(world: World) -> None:
    from contactcenter.services.recording_files import recordings_collect

    rec = world.complete()
    result = recordings_collect(now=timezone.now() + timedelta(days=1))
    assert (result.stored, result.failed, result.waiting) == (0, 0, 0)
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.ENDED


def test_a_purged_recording_is_deleted_from_twilio_whatever_the_setting(world: World) -> None:
    world.api.media[RECORDING] = world.audio
    rec = world.complete()  # stored; the account keeps Twilio's copy
    assert world.api.deleted == []
    with world.on_commit(execute=True):
        purged = recordings_purge_for_calls(
            organization_id=world.floor.org.pk, call_ids=[rec.call_id], reason="erasure"
        )
    assert purged == 1
    assert world.api.deleted == [RECORDING]
    entry = AuditEntry.objects.get(action="recording.twilio_delete", object_id=str(rec.pk))
    assert entry.details["after"] == "purge"
    # Twilio's copy already gone (deleted after copy, or by hand): counts as deleted.
    assert twilio_recording_delete(recording_id=rec.pk)


def test_a_recording_whose_completed_callback_never_came_is_ended_and_fetched(world: World) -> None:
    answered_call(world.floor.agent)
    hung_up(world.floor.agent)  # the call ends first (72 s in) ...
    late = recording_callback("in-progress", agent=world.floor.agent)
    assert deliver(Client(), late).status_code == 204  # ... then Twilio's in-progress
    rec = Recording.objects.get(source=CallSource.TWILIO, leg_id=RECORDING)
    assert rec.status == RecordingStatus.RECORDING  # no completed will close it
    world.api.media[RECORDING] = world.audio
    assert twilio_recordings_fetch_due() == 1
    rec.refresh_from_db()
    call = Call.objects.get(pk=rec.call_id)
    assert (rec.status, rec.ended_at) == (RecordingStatus.DONE, call.ended_at)
    assert rec.duration_seconds == 60  # answered at 12 s, ended at 72 s
    # The completed callback, should it come after all, changes nothing.
    events = CallEvent.objects.count()
    completed = recording_callback("completed", agent=world.floor.agent, duration="61")
    assert deliver(Client(), completed).status_code == 204
    rec.refresh_from_db()
    assert (rec.status, rec.duration_seconds) == (RecordingStatus.DONE, 60)
    assert CallEvent.objects.count() == events
