"""Getting a voicemail's audio from the PBX into the store (the shared-volume option).

app_voicemail writes each message under its spool (``VOICEMAIL_PBX_DIR``, e.g.
``/var/spool/asterisk/voicemail/default/1000/INBOX/msg0000``, then one file per format
of voicemail.conf and a ``.txt`` of metadata). That directory is mounted on the workers
at ``VOICEMAIL_SPOOL_DIR``; the file is copied into the ``recordings`` storage, as a
recording's is (contactcenter/services/recording_files.py), under
``<organization>/voicemail/<yyyy>/<mm>/<dd>/<id>.<format>``. A name outside the spool is
never read; a file not there ``RECORDINGS_FILE_TIMEOUT_SECONDS`` after the message was
left fails its media (the voicemail itself stays: the caller can still be called back).
"""

from __future__ import annotations

import configparser
import contextlib
import logging
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import CallSource
from contactcenter.models import Voicemail, VoicemailMedia
from contactcenter.services import audit
from contactcenter.services.recording_files import recordings_storage

logger = logging.getLogger(__name__)

NEVER_ARRIVED = "file never arrived"
OUTSIDE = "file named outside the PBX's voicemail spool"
NO_FILE_NAMED = "the PBX named no file"


@dataclass
class VoicemailCollectResult:
    stored: int = 0
    failed: int = 0
    waiting: int = 0


def voicemail_spool_path(pbx_name: str) -> Path | None:
    """Where the PBX's message (``VM_MESSAGEFILE``, no extension) is on this host, or None
    for a name outside the voicemail spool (``..`` included)."""
    name = PurePosixPath(pbx_name)
    pbx_dir = PurePosixPath(settings.VOICEMAIL_PBX_DIR)
    if not name.is_relative_to(pbx_dir):
        return None
    relative = name.relative_to(pbx_dir)
    if not relative.parts or ".." in relative.parts:
        return None
    spool = Path(settings.VOICEMAIL_SPOOL_DIR).resolve()
    path = (spool / relative).resolve()
    return path if path.is_relative_to(spool) else None


def _audio_file(base: Path) -> Path | None:
    """The message's audio: the first of ``VOICEMAIL_FORMATS`` found beside its name."""
    for fmt in settings.VOICEMAIL_FORMATS:
        candidate = base.parent / f"{base.name}.{fmt}"
        if fmt.isalnum() and candidate.is_file():
            return candidate
    return None


def _duration(audio: Path, metadata: Path) -> int | None:
    """The message's length: app_voicemail's ``duration=`` in the ``.txt``, else the WAV's."""
    if metadata.is_file():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        with contextlib.suppress(configparser.Error, UnicodeDecodeError, OSError):
            parser.read_string(metadata.read_text(encoding="utf-8", errors="replace"))
            raw = parser.get("message", "duration", fallback="")
            if raw.strip().isdigit() and len(raw.strip()) < 7:
                return int(raw.strip())
    if audio.suffix.lower() == ".wav":
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(audio)) as w:
            rate = w.getframerate()
            return int(w.getnframes() / rate) if rate else None
    return None


def voicemail_storage_key(vm: Voicemail, fmt: str) -> str:
    suffix = f".{fmt}" if fmt.isalnum() else ""
    return f"{vm.organization_id}/voicemail/{vm.left_at:%Y/%m/%d}/{vm.pk}{suffix}"


def voicemails_collect(*, now: datetime | None = None, limit: int = 200) -> VoicemailCollectResult:
    """Store the audio of Asterisk voicemails whose file has arrived; fail those
    ``RECORDINGS_FILE_TIMEOUT_SECONDS`` late or named outside the spool. Audits
    ``voicemail.store`` / ``voicemail.fail``. Idempotent (each row locked and checked
    again)."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.RECORDINGS_FILE_TIMEOUT_SECONDS)
    result = VoicemailCollectResult()
    ids = list(
        Voicemail.objects.filter(source=CallSource.ASTERISK, media=VoicemailMedia.WAITING)
        .order_by("left_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        outcome = _collect_one(pk, deadline)
        if outcome == VoicemailMedia.STORED:
            result.stored += 1
        elif outcome == VoicemailMedia.FAILED:
            result.failed += 1
        else:
            result.waiting += 1
    return result


@transaction.atomic
def _collect_one(pk: int, deadline: datetime) -> str:
    vm = Voicemail.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
    if vm is None or vm.media != VoicemailMedia.WAITING:
        return ""
    if not vm.pbx_filename:
        return (
            voicemail_media_failed(voicemail=vm, reason=NO_FILE_NAMED)
            if vm.left_at <= deadline
            else ""
        )
    base = voicemail_spool_path(vm.pbx_filename)
    if base is None:
        return voicemail_media_failed(voicemail=vm, reason=OUTSIDE)
    audio = _audio_file(base)
    if audio is None:
        return (
            voicemail_media_failed(voicemail=vm, reason=NEVER_ARRIVED)
            if vm.left_at <= deadline
            else ""
        )
    metadata = base.parent / f"{base.name}.txt"
    return _store(vm, audio, audio.suffix.lstrip(".").lower(), _duration(audio, metadata))


def _store(vm: Voicemail, audio: Path, fmt: str, duration: int | None) -> str:
    """Copy ``audio`` into the store for the locked ``vm``; audited ``voicemail.store``."""
    with audio.open("rb") as handle:
        vm.storage_key = recordings_storage().save(voicemail_storage_key(vm, fmt), File(handle))
    vm.size_bytes = audio.stat().st_size
    vm.format = fmt
    if vm.duration_seconds is None:
        vm.duration_seconds = duration
    vm.media = VoicemailMedia.STORED
    vm.save(
        update_fields=[
            "storage_key",
            "size_bytes",
            "format",
            "duration_seconds",
            "media",
            "updated_at",
        ]
    )
    audit.record(
        action="voicemail.store",
        organization_id=vm.organization_id,
        obj=vm,
        changes={"media": vm.media, "size_bytes": vm.size_bytes},
    )
    publish.voicemails_changed(organization_id=vm.organization_id, voicemail_ids=[vm.pk])
    return VoicemailMedia.STORED


@transaction.atomic
def voicemail_file_store(*, voicemail_id: int, path: Path, fmt: str) -> str:
    """Store a voicemail's audio fetched from elsewhere (Twilio's REST API): ``stored``,
    or '' when the voicemail no longer waits for it (stored or failed meanwhile)."""
    vm = Voicemail.objects.select_for_update().filter(pk=voicemail_id).first()
    if vm is None or vm.media != VoicemailMedia.WAITING:
        return ""
    duration = _duration(path, path.with_name(f"{path.name}.txt")) if fmt == "wav" else None
    return _store(vm, path, fmt, duration)


@transaction.atomic
def voicemail_media_fail(*, voicemail_id: int, reason: str) -> str:
    """No audio will come for the voicemail: ``failed`` ('' when it no longer waits)."""
    vm = Voicemail.objects.select_for_update().filter(pk=voicemail_id).first()
    if vm is None or vm.media != VoicemailMedia.WAITING:
        return ""
    return voicemail_media_failed(voicemail=vm, reason=reason)


def voicemail_media_failed(*, voicemail: Voicemail, reason: str) -> str:
    """No audio will come for ``voicemail`` (in the caller's transaction, row locked)."""
    logger.warning("voicemail %s: no audio: %s", voicemail.pk, reason)
    voicemail.media = VoicemailMedia.FAILED
    voicemail.failure = reason[:200]
    voicemail.save(update_fields=["media", "failure", "updated_at"])
    audit.record(
        action="voicemail.fail",
        organization_id=voicemail.organization_id,
        obj=voicemail,
        changes={"media": voicemail.media},
        details={"reason": reason},
    )
    publish.voicemails_changed(
        organization_id=voicemail.organization_id, voicemail_ids=[voicemail.pk]
    )
    return VoicemailMedia.FAILED
