"""contactcenter.services' writers of recordings and voicemails: their rows, files,
playback and retention."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.models import Organization, Recording, Voicemail
from contactcenter.services import (
    media_links,
    recording_files,
    recording_retention,
    recordings,
    voicemail_files,
    voicemail_retention,
    voicemails,
)
from contactcenter.services.telephony import apply
from tests.contactcenter.recorded import ended_recording
from tests.contactcenter.services.audit_writers.world import World, Writer, left_voicemail
from tests.contactcenter.telephony_calls import KEY as CALL_KEY
from tests.contactcenter.telephony_calls import answered_call


def _stored_recording(w: World) -> Any:
    rec = ended_recording(w.org, w.floor.agent)
    with tempfile.TemporaryDirectory() as store:
        recordings = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        stores = {**settings.STORAGES, "recordings": {**recordings, "OPTIONS": {"location": store}}}
        with override_settings(STORAGES=stores):
            return recording_files.recording_file_store(recording_id=rec.pk, path=Path(__file__))


def _stored_voicemail(w: World) -> Any:
    vm = left_voicemail(w)
    with tempfile.TemporaryDirectory() as store:
        recordings = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        stores = {**settings.STORAGES, "recordings": {**recordings, "OPTIONS": {"location": store}}}
        with override_settings(STORAGES=stores):
            return voicemail_files.voicemail_file_store(
                voicemail_id=vm.pk, path=Path(__file__), fmt="wav"
            )


WRITERS: dict[str, Writer] = {
    "contactcenter.services.recordings.recording_facts_apply": (
        lambda w: (
            apply.telephony_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                events=answered_call(w.floor.agent.interface)[:4],
            ),
            recordings.recording_facts_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                facts=[
                    te.RecordingStarted(
                        call_key=CALL_KEY, at=timezone.now(), dedup_key="r1", leg_id="L1"
                    )
                ],
            ),
        ),
        "recording.create",
    ),
    "contactcenter.services.recording_files.recordings_collect": (
        lambda w: (
            ended_recording(w.org, w.floor.agent, ago=10**6),
            recording_files.recordings_collect(),
        ),
        "recording.fail",
    ),
    "contactcenter.services.recording_files.recording_file_store": (
        lambda w: _stored_recording(w),
        "recording.store",
    ),
    "contactcenter.services.recording_files.recording_file_fail": (
        lambda w: recording_files.recording_file_fail(
            recording_id=ended_recording(w.org, w.floor.agent).pk, reason="gone"
        ),
        "recording.fail",
    ),
    "contactcenter.services.recording_retention.recordings_purge_for_calls": (
        lambda w: (
            rec := ended_recording(w.org, w.floor.agent),
            recording_retention.recordings_purge_for_calls(
                organization_id=w.org.pk, call_ids=[rec.call_id], reason="erasure"
            ),
        ),
        "recording.purge",
    ),
    "contactcenter.services.recording_retention.recordings_purge_expired": (
        lambda w: (
            Organization.objects.filter(pk=w.org.pk).update(recording_retention_days=1),
            rec := ended_recording(w.org, w.floor.agent, ago=10**6),
            Recording.objects.filter(pk=rec.pk).update(status="failed"),
            recording_retention.recordings_purge_expired(),
        ),
        "recording.purge",
    ),
    "contactcenter.services.voicemails.voicemail_facts_apply": (
        lambda w: left_voicemail(w),
        "voicemail.create",
    ),
    "contactcenter.services.voicemails.voicemail_claim": (
        lambda w: voicemails.voicemail_claim(voicemail=left_voicemail(w), agent=w.floor.agent),
        "voicemail.claim",
    ),
    "contactcenter.services.voicemails.voicemail_to_callback": (
        lambda w: voicemails.voicemail_to_callback(voicemail=left_voicemail(w), agent=None),
        "voicemail.callback",
    ),
    "contactcenter.services.voicemails.voicemail_to_case": (
        lambda w: voicemails.voicemail_to_case(voicemail=left_voicemail(w), agent=None, user=None),
        "voicemail.case",
    ),
    "contactcenter.services.voicemails.voicemail_close": (
        lambda w: voicemails.voicemail_close(voicemail=left_voicemail(w), agent=None),
        "voicemail.close",
    ),
    "contactcenter.services.voicemail_files.voicemails_collect": (
        lambda w: (
            Voicemail.objects.filter(pk=left_voicemail(w).pk).update(
                left_at=timezone.now() - timedelta(days=1)
            ),
            voicemail_files.voicemails_collect(),
        ),
        "voicemail.fail",
    ),
    "contactcenter.services.voicemail_files.voicemail_file_store": (
        lambda w: _stored_voicemail(w),
        "voicemail.store",
    ),
    "contactcenter.services.voicemail_files.voicemail_media_fail": (
        lambda w: voicemail_files.voicemail_media_fail(
            voicemail_id=left_voicemail(w).pk, reason="x"
        ),
        "voicemail.fail",
    ),
    "contactcenter.services.voicemail_files.voicemail_media_failed": (
        lambda w: voicemail_files.voicemail_media_failed(voicemail=left_voicemail(w), reason="x"),
        "voicemail.fail",
    ),
    "contactcenter.services.media_links.media_played#voicemail": (
        lambda w: media_links.media_played(media=left_voicemail(w), user=w.floor.supervisor.user),
        "voicemail.play",
    ),
    "contactcenter.services.voicemail_retention.voicemails_erase_for_calls": (
        lambda w: voicemail_retention.voicemails_erase_for_calls(
            organization_id=w.org.pk, call_ids=[left_voicemail(w).call_id]
        ),
        "voicemail.purge",
    ),
    "contactcenter.services.voicemail_retention.voicemails_purge_expired": (
        lambda w: (
            Organization.objects.filter(pk=w.org.pk).update(recording_retention_days=1),
            voicemails.voicemail_close(voicemail=left_voicemail(w), agent=None),
            Voicemail.objects.update(left_at=timezone.now() - timedelta(days=3)),
            voicemail_retention.voicemails_purge_expired(),
        ),
        "voicemail.purge",
    ),
    "contactcenter.services.media_links.media_played#recording": (
        lambda w: media_links.media_played(
            media=ended_recording(w.org, w.floor.agent), user=w.floor.supervisor.user
        ),
        "recording.play",
    ),
}
