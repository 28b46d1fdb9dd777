"""Getting a recording's file from the PBX into the store (the shared-volume option).

The PBX writes under its monitor directory (``RECORDINGS_PBX_DIR``); that directory is
mounted on the workers at ``RECORDINGS_SPOOL_DIR``. Once a call is over, its ended
recordings' files are copied into the ``recordings`` storage (the filesystem or an
S3 bucket, Django's storage API). A file named outside the monitor directory is never
read (a PBX cannot make us copy ``/etc/passwd``); one that has not arrived
``RECORDINGS_FILE_TIMEOUT_SECONDS`` after the call marks the recording failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone

from contactcenter.enums import RecordingStatus
from contactcenter.models import Recording
from contactcenter.services import audit
from contactcenter.services.recordings import calls_show_recordings

logger = logging.getLogger(__name__)

NEVER_ARRIVED = "file never arrived"
OUTSIDE = "file named outside the PBX's monitor directory"


@dataclass
class CollectResult:
    stored: int = 0
    failed: int = 0
    waiting: int = 0


def recordings_storage() -> Storage:
    return storages["recordings"]


def spool_path(pbx_filename: str) -> Path | None:
    """Where the PBX's file is on this host, or None for a name outside its monitor
    directory (``..`` included)."""
    name = PurePosixPath(pbx_filename)
    pbx_dir = PurePosixPath(settings.RECORDINGS_PBX_DIR)
    relative = name.relative_to(pbx_dir) if name.is_relative_to(pbx_dir) else None
    if relative is None and not name.is_absolute():
        relative = name
    if relative is None or not relative.parts or ".." in relative.parts:
        return None
    spool = Path(settings.RECORDINGS_SPOOL_DIR).resolve()
    path = (spool / relative).resolve()
    return path if path.is_relative_to(spool) else None


def storage_key(rec: Recording) -> str:
    """The stored file's name: by organization and day, never from the PBX's text."""
    suffix = f".{rec.format}" if rec.format.isalnum() else ""
    return f"{rec.organization_id}/{rec.started_at:%Y/%m/%d}/{rec.pk}{suffix}"


def recordings_collect(*, now: datetime | None = None, limit: int = 200) -> CollectResult:
    """Store the files of ended recordings that have arrived; fail the ones that are
    ``RECORDINGS_FILE_TIMEOUT_SECONDS`` late or named outside the monitor directory.
    Audits ``recording.store`` / ``recording.fail``. Idempotent: each row is locked
    and checked again before it changes."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.RECORDINGS_FILE_TIMEOUT_SECONDS)
    result = CollectResult()
    ids = list(
        Recording.objects.filter(status=RecordingStatus.ENDED)
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


@transaction.atomic
def _collect_one(pk: int, deadline: datetime) -> str:
    rec = Recording.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
    if rec is None or rec.status != RecordingStatus.ENDED:
        return ""
    path = spool_path(rec.pbx_filename) if rec.pbx_filename else None
    if rec.pbx_filename and path is None:
        return _fail(rec, OUTSIDE)
    if path is None or not path.is_file():
        ended = rec.ended_at or rec.started_at
        return _fail(rec, NEVER_ARRIVED) if ended <= deadline else ""
    with path.open("rb") as handle:
        rec.storage_key = recordings_storage().save(storage_key(rec), File(handle))
        rec.size_bytes = path.stat().st_size
    rec.status = RecordingStatus.DONE
    rec.save(update_fields=["storage_key", "size_bytes", "status", "updated_at"])
    audit.record(
        action="recording.store",
        organization_id=rec.organization_id,
        obj=rec,
        object_label=f"call {rec.call_id}",
        changes={"status": rec.status, "size_bytes": rec.size_bytes},
    )
    calls_show_recordings(organization_id=rec.organization_id, recordings=[rec])
    return RecordingStatus.DONE


def _fail(rec: Recording, reason: str) -> str:
    logger.warning("recording %s of call %s failed: %s", rec.pk, rec.call_id, reason)
    rec.status = RecordingStatus.FAILED
    rec.failure = reason
    rec.save(update_fields=["status", "failure", "updated_at"])
    audit.record(
        action="recording.fail",
        organization_id=rec.organization_id,
        obj=rec,
        object_label=f"call {rec.call_id}",
        changes={"status": rec.status},
        details={"reason": reason},
    )
    calls_show_recordings(organization_id=rec.organization_id, recordings=[rec])
    return RecordingStatus.FAILED
