"""A contact's erasure removes their recordings: files deleted from the store, rows kept
as purged and audited; other calls' and other organizations' recordings stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import RecordingStatus
from contactcenter.models import AuditEntry, Recording
from contactcenter.services.anonymize import calls_anonymize
from contactcenter.services.recording_files import recordings_collect, recordings_storage
from contactcenter.services.recording_retention import recordings_purge_expired
from contactcenter.services.recordings import recording_facts_apply
from crm.models import Case
from tests.conftest import Floor
from tests.contactcenter.recorded import ended_recording, tiny_wav
from tests.crm.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings: Any, tmp_path: Path) -> Path:
    settings.RECORDINGS_SPOOL_DIR = str(tmp_path / "monitor")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "monitor"


def _stored(floor: Floor, store: Path, name: str) -> Recording:
    rec = ended_recording(floor.org, floor.agent, name=name)
    tiny_wav(store / name)
    recordings_collect()
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.DONE
    return rec


def test_erasure_purges_the_calls_recordings_and_nothing_else(
    floor_a: Floor, floor_b: Floor, store: Path
) -> None:
    theirs = _stored(floor_a, store, "theirs.wav")
    stranger = _stored(floor_a, store, "stranger.wav")
    elsewhere = _stored(floor_b, store, "elsewhere.wav")
    storage = recordings_storage()
    key = theirs.storage_key

    # Another organization's id in the list changes nothing there.
    calls_anonymize(
        organization_id=floor_a.org.pk,
        call_ids=[theirs.call_id, elsewhere.call_id],
        identifiers=["+15557654321"],
    )
    theirs.refresh_from_db()
    assert (theirs.status, theirs.storage_key, theirs.pbx_filename) == (
        RecordingStatus.PURGED,
        "",
        "",
    )
    assert not storage.exists(key)
    for kept in (stranger, elsewhere):
        kept.refresh_from_db()
        assert kept.status == RecordingStatus.DONE and storage.exists(kept.storage_key)
    (entry,) = AuditEntry.objects.filter(action="recording.purge")
    assert (entry.object_id, entry.organization_id, entry.details) == (
        str(theirs.pk),
        floor_a.org.pk,
        {"reason": "erasure"},
    )
    # Twice is once.
    calls_anonymize(organization_id=floor_a.org.pk, call_ids=[theirs.call_id], identifiers=[])
    assert AuditEntry.objects.filter(action="recording.purge").count() == 1
    # What the PBX says later of an erased recording is not kept.
    late = te.RecordingNamed(
        call_key=theirs.call.external_id,
        at=timezone.now(),
        dedup_key="late-name",
        leg_id=theirs.leg_id,
        filename="/var/spool/asterisk/monitor/again.wav",
    )
    recording_facts_apply(organization_id=floor_a.org.pk, connection_key="asterisk:1", facts=[late])
    theirs.refresh_from_db()
    assert (theirs.status, theirs.pbx_filename) == (RecordingStatus.PURGED, "")


DAY = 86400
SECOND = timedelta(seconds=1)


def test_the_retention_purge_keeps_recent_held_and_unfinished_recordings(
    floor_a: Floor, floor_b: Floor, store: Path
) -> None:
    floor_a.org.recording_retention_days = 30
    floor_a.org.save()
    old = _stored(floor_a, store, "old.wav")
    Recording.objects.filter(pk=old.pk).update(started_at=old.started_at - 40 * DAY * SECOND)
    held = ended_recording(floor_a.org, floor_a.agent, ago=40 * DAY)
    case = make_case(floor_a.org, title="Dispute")
    Case.objects.filter(pk=case.pk).update(source_call=held.call, legal_hold=True)
    failed = ended_recording(floor_a.org, floor_a.agent, ago=40 * DAY)
    recent = ended_recording(floor_a.org, floor_a.agent, ago=10 * DAY)
    waiting = ended_recording(floor_a.org, floor_a.agent, ago=40 * DAY)
    Recording.objects.filter(pk__in=[held.pk, failed.pk, recent.pk]).update(
        status=RecordingStatus.FAILED
    )
    no_retention = ended_recording(floor_b.org, floor_b.agent, ago=400 * DAY)
    Recording.objects.filter(pk=no_retention.pk).update(status=RecordingStatus.FAILED)

    assert recordings_purge_expired() == 2
    statuses = dict(Recording.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: RecordingStatus.PURGED,
        failed.pk: RecordingStatus.PURGED,
        held.pk: RecordingStatus.FAILED,  # the case's legal hold keeps it
        recent.pk: RecordingStatus.FAILED,
        waiting.pk: RecordingStatus.ENDED,  # its file may still come
        no_retention.pk: RecordingStatus.FAILED,  # kept until erased
    }
    assert not recordings_storage().exists(old.storage_key)
    reasons = AuditEntry.objects.filter(action="recording.purge").values_list(
        "details", "actor_kind"
    )
    assert list(reasons) == [({"reason": "retention"}, "system")] * 2
    assert recordings_purge_expired() == 0
    # Lifting the hold lets the next run purge it.
    Case.objects.filter(source_call=held.call).update(legal_hold=False)
    assert recordings_purge_expired() == 1
