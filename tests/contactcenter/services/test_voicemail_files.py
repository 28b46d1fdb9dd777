"""Asterisk voicemails' audio from the voicemail spool to the store: the format found
beside the message's name, its length from app_voicemail's .txt, a file that never
arrives, a hostile name."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from contactcenter.models import AuditEntry, Voicemail, VoicemailMedia
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.voicemail_files import (
    NEVER_ARRIVED,
    OUTSIDE,
    voicemails_collect,
)
from tests.conftest import Floor
from tests.contactcenter.recorded import tiny_wav
from tests.contactcenter.voicemailed import leave_voicemail, queue_with

pytestmark = pytest.mark.django_db

BOX = "queues/support/INBOX"


@pytest.fixture
def spool(settings: Any, tmp_path: Path) -> Path:
    settings.VOICEMAIL_SPOOL_DIR = str(tmp_path / "voicemail")
    settings.RECORDINGS_FILE_TIMEOUT_SECONDS = 600
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "voicemail"


def _left(floor: Floor, name: str) -> Voicemail:
    return leave_voicemail(queue_with(floor.org, floor.agent), filename=name)


def test_the_first_format_found_is_stored_with_its_length_from_the_txt(
    floor_a: Floor, spool: Path
) -> None:
    vm = _left(floor_a, f"{django_settings.VOICEMAIL_PBX_DIR}/{BOX}/msg0001")
    (spool / BOX).mkdir(parents=True)
    (spool / BOX / "msg0001.gsm").write_bytes(b"\xd8" * 330)  # voicemail.conf format=gsm
    (spool / BOX / "msg0001.txt").write_text("[message]\ncallerid=<+15557654321>\nduration=7\n")
    assert voicemails_collect().stored == 1
    vm.refresh_from_db()
    assert (vm.media, vm.format, vm.size_bytes, vm.duration_seconds) == ("stored", "gsm", 330, 7)
    assert vm.storage_key.startswith(f"{floor_a.org.pk}/voicemail/")
    with recordings_storage().open(vm.storage_key, "rb") as stored:
        assert stored.read() == b"\xd8" * 330
    assert voicemails_collect().stored == 0  # done once


def test_a_wav_without_its_txt_has_the_length_of_its_header(floor_a: Floor, spool: Path) -> None:
    vm = _left(floor_a, f"{django_settings.VOICEMAIL_PBX_DIR}/{BOX}/msg0002")
    tiny_wav(spool / BOX / "msg0002.wav", seconds=2.0)
    assert voicemails_collect().stored == 1
    vm.refresh_from_db()
    assert (vm.format, vm.duration_seconds) == ("wav", 2)


def test_a_file_that_never_arrives_fails_the_media_after_the_timeout(
    floor_a: Floor, spool: Path
) -> None:
    vm = _left(floor_a, f"{django_settings.VOICEMAIL_PBX_DIR}/{BOX}/msg0003")
    assert voicemails_collect().waiting == 1  # not yet late
    Voicemail.objects.filter(pk=vm.pk).update(left_at=timezone.now() - timedelta(seconds=601))
    assert voicemails_collect().failed == 1
    vm.refresh_from_db()
    assert (vm.media, vm.failure, vm.status) == (VoicemailMedia.FAILED, NEVER_ARRIVED, "new")
    assert AuditEntry.objects.filter(action="voicemail.fail", object_id=str(vm.pk)).exists()


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        f"{django_settings.VOICEMAIL_PBX_DIR}/../../../etc/passwd",
        "/var/spool/asterisk/monitor/cc-1-1.wav",
        "relative/msg0000",
    ],
)
def test_a_name_outside_the_spool_is_never_read(floor_a: Floor, spool: Path, name: str) -> None:
    vm = _left(floor_a, name)
    assert voicemails_collect().failed == 1
    vm.refresh_from_db()
    assert (vm.media, vm.failure, vm.storage_key) == (VoicemailMedia.FAILED, OUTSIDE, "")
