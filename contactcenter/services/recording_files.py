"""Getting a recording's file from the PBX into the store.

The PBX writes under its monitor directory (``RECORDINGS_PBX_DIR``). Either that
directory is mounted on the workers at ``RECORDINGS_SPOOL_DIR`` (the shared volume), or
the workers pull each file over HTTP from ``RECORDINGS_PULL_URL``
(contactcenter/services/recording_pull.py). Once a call is over, its ended recordings'
files are copied into the ``recordings`` storage (the filesystem or an S3 bucket,
Django's storage API) and the copy is read back and checked (size, SHA-256). A file
named outside the monitor directory is never read (a PBX cannot make us copy
``/etc/passwd``); one that has not arrived ``RECORDINGS_FILE_TIMEOUT_SECONDS`` after the
call marks the recording failed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone

from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models import Recording
from contactcenter.services import audit
from contactcenter.services.recording_pull import PullUnavailable, pulled_file
from contactcenter.services.recordings import calls_show_recordings

logger = logging.getLogger(__name__)

NEVER_ARRIVED = "file never arrived"
OUTSIDE = "file named outside the PBX's monitor directory"
_CHUNK = 1 << 16


@dataclass
class CollectResult:
    stored: int = 0
    failed: int = 0
    waiting: int = 0


def recordings_storage() -> Storage:
    return storages["recordings"]


def pbx_relative(pbx_filename: str) -> PurePosixPath | None:
    """The PBX's file name relative to its monitor directory, or None for a name
    outside it (``..`` included)."""
    name = PurePosixPath(pbx_filename)
    pbx_dir = PurePosixPath(settings.RECORDINGS_PBX_DIR)
    relative = name.relative_to(pbx_dir) if name.is_relative_to(pbx_dir) else None
    if relative is None and not name.is_absolute():
        relative = name
    if relative is None or not relative.parts or ".." in relative.parts:
        return None
    return relative


def spool_path(pbx_filename: str) -> Path | None:
    """Where the PBX's file is on this host, or None for a name outside its monitor
    directory (``..`` included)."""
    relative = pbx_relative(pbx_filename)
    if relative is None:
        return None
    spool = Path(settings.RECORDINGS_SPOOL_DIR).resolve()
    path = (spool / relative).resolve()
    return path if path.is_relative_to(spool) else None


def storage_key(rec: Recording) -> str:
    """The stored file's name: by organization and day, never from the PBX's text."""
    suffix = f".{rec.format}" if rec.format.isalnum() else ""
    return f"{rec.organization_id}/{rec.started_at:%Y/%m/%d}/{rec.pk}{suffix}"


def recordings_collect(*, now: datetime | None = None, limit: int = 200) -> CollectResult:
    """Store the files of the PBX's ended recordings that have arrived (on the shared
    volume, or pulled over HTTP when ``RECORDINGS_PULL_URL`` is set); fail the ones that
    are ``RECORDINGS_FILE_TIMEOUT_SECONDS`` late or named outside the monitor directory.
    Twilio's recordings are fetched by telephony's own task. Audits ``recording.store`` /
    ``recording.fail``. Idempotent: each row is locked and checked again before it
    changes."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.RECORDINGS_FILE_TIMEOUT_SECONDS)
    result = CollectResult()
    ids = list(
        Recording.objects.filter(status=RecordingStatus.ENDED, source=CallSource.ASTERISK)
        .order_by("ended_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        outcome = _collect_one(pk, deadline)
        if outcome == RecordingStatus.DONE:
            result.stored += 1
        elif outcome == RecordingStatus.FAILED:
            result.failed += 1
        else:
            result.waiting += 1
    return result


def _collect_one(pk: int, deadline: datetime) -> str:
    rec = Recording.objects.filter(pk=pk, status=RecordingStatus.ENDED).first()
    if rec is None:
        return ""
    late = (rec.ended_at or rec.started_at) <= deadline
    relative = pbx_relative(rec.pbx_filename) if rec.pbx_filename else None
    if rec.pbx_filename and relative is None:
        return recording_file_fail(recording_id=pk, reason=OUTSIDE)
    if relative is None:
        return recording_file_fail(recording_id=pk, reason=NEVER_ARRIVED) if late else ""
    if settings.RECORDINGS_PULL_URL:
        try:
            with pulled_file(relative) as pulled:
                if pulled is not None:
                    return _store(pk, pulled)
        except PullUnavailable as exc:
            logger.warning("recording %s: pulling %s failed: %s", pk, relative, exc)
        return recording_file_fail(recording_id=pk, reason=NEVER_ARRIVED) if late else ""
    path = spool_path(rec.pbx_filename)
    if path is None or not path.is_file():
        return recording_file_fail(recording_id=pk, reason=NEVER_ARRIVED) if late else ""
    return _store(pk, path)


def _store(pk: int, path: Path) -> str:
    try:
        return recording_file_store(recording_id=pk, path=path)
    except CopyNotVerified as exc:  # the next run tries again (a failed write, a full disk)
        logger.warning("%s", exc)
        return ""


def _digest(handle: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(_CHUNK):
        size += len(chunk)
        digest.update(chunk)
    return size, digest.hexdigest()


class CopyNotVerified(Exception):
    """The stored copy differs from the file read (size or SHA-256): it was deleted, the
    recording is left waiting for the next try."""


@transaction.atomic
def recording_file_store(*, recording_id: int, path: Path) -> str:
    """Copy ``path`` (the recording's file, on this host) into the recordings storage,
    read the copy back and compare its size and SHA-256, then mark the recording
    ``done``. Only an ``ended`` recording changes ('' otherwise: stored already, failed,
    purged, or being stored by another worker). Audits ``recording.store``; the call is
    published after commit. Raises CopyNotVerified when the copy differs."""
    rec = Recording.objects.select_for_update(skip_locked=True).filter(pk=recording_id).first()
    if rec is None or rec.status != RecordingStatus.ENDED:
        return ""
    storage = recordings_storage()
    with path.open("rb") as handle:
        size, digest = _digest(handle)
        handle.seek(0)
        key = storage.save(storage_key(rec), File(handle))
    with storage.open(key, "rb") as stored:
        copied = _digest(stored)
    if copied != (size, digest):
        storage.delete(key)
        raise CopyNotVerified(
            f"recording {rec.pk}: stored {copied[0]} bytes, read {size} (or checksums differ)"
        )
    rec.storage_key, rec.size_bytes, rec.status = key, size, RecordingStatus.DONE
    rec.save(update_fields=["storage_key", "size_bytes", "status", "updated_at"])
    audit.record(
        action="recording.store",
        organization_id=rec.organization_id,
        obj=rec,
        object_label=f"call {rec.call_id}",
        changes={"status": rec.status, "size_bytes": rec.size_bytes},
        details={"sha256": digest},
    )
    calls_show_recordings(organization_id=rec.organization_id, recordings=[rec])
    return RecordingStatus.DONE


@transaction.atomic
def recording_file_fail(*, recording_id: int, reason: str) -> str:
    """Mark an ``ended`` recording failed: its file will not come ('' when the recording
    is no longer waiting for it). Audits ``recording.fail``; the call is published."""
    rec = Recording.objects.select_for_update(skip_locked=True).filter(pk=recording_id).first()
    if rec is None or rec.status != RecordingStatus.ENDED:
        return ""
    logger.warning("recording %s of call %s failed: %s", rec.pk, rec.call_id, reason)
    rec.status = RecordingStatus.FAILED
    rec.failure = reason[:200]
    rec.save(update_fields=["status", "failure", "updated_at"])
    audit.record(
        action="recording.fail",
        organization_id=rec.organization_id,
        obj=rec,
        object_label=f"call {rec.call_id}",
        changes={"status": rec.status},
        details={"reason": rec.failure},
    )
    calls_show_recordings(organization_id=rec.organization_id, recordings=[rec])
    return RecordingStatus.FAILED
