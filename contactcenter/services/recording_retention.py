"""Recordings removed: their files deleted from the store, their rows kept as ``purged``.

Who and when are in the audit trail (``recording.purge``, the actor of the context: the
person erasing a contact, or the system for the retention job) with the reason. The
``recordings_purged`` hook tells telephony, which deletes Twilio's copies too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contactcenter.enums import RecordingStatus
from contactcenter.hooks import recordings_held, recordings_purged
from contactcenter.models import Organization, Recording
from contactcenter.services import audit
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.recordings import calls_show_recordings

logger = logging.getLogger(__name__)


@transaction.atomic
def recordings_purge_for_calls(
    *, organization_id: int, call_ids: Collection[int], reason: str
) -> int:
    """Purge every recording of these calls of the organization (an erasure): the stored
    file is deleted, the PBX's file name forgotten, the row kept as ``purged``. Returns
    how many rows were purged. Audited ``recording.purge`` per row, with ``reason``."""
    rows = list(
        Recording.objects.for_organization(organization_id)
        .filter(call_id__in=list(call_ids))
        .exclude(status=RecordingStatus.PURGED)
        .select_for_update()
        .order_by("pk")
    )
    return _purge(rows, reason)


# Purged by age: stored files, and rows whose file never came. (Rows still recording or
# waiting for their file are left to finish first.)
_AGED = (RecordingStatus.DONE, RecordingStatus.FAILED)


def recordings_purge_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """Purge the recordings older than their organization's ``recording_retention_days``
    (none set: kept), except those of calls under legal hold (the ``recordings_held``
    hook: crm's cases). At most ``limit`` per organization per run; returns how many.
    Audited ``recording.purge`` with the reason ``retention``, the system as the actor."""
    now = now or timezone.now()
    purged = 0
    organizations = Organization.objects.filter(recording_retention_days__isnull=False)
    for org_id, days in organizations.values_list("pk", "recording_retention_days"):
        purged += _purge_organization(org_id, now - timedelta(days=days or 0), limit)
    return purged


@transaction.atomic
def _purge_organization(organization_id: int, cutoff: datetime, limit: int) -> int:
    rows = list(
        Recording.objects.for_organization(organization_id)
        .filter(status__in=_AGED, started_at__lt=cutoff)
        .select_for_update(skip_locked=True)
        .order_by("started_at", "pk")[:limit]
    )
    if not rows:
        return 0
    call_ids = sorted({r.call_id for r in rows})
    held: set[int] = set()
    for _, answer in recordings_held.send(
        sender=Recording, organization_id=organization_id, call_ids=call_ids
    ):
        held |= {int(call_id) for call_id in answer or ()}
    return _purge([r for r in rows if r.call_id not in held], "retention")


def _purge(rows: list[Recording], reason: str) -> int:
    storage = recordings_storage()
    for rec in rows:
        if rec.storage_key:
            # A file already gone is what we want; the row says purged either way.
            storage.delete(rec.storage_key)
        rec.status = RecordingStatus.PURGED
        rec.updated_at = timezone.now()
        rec.storage_key = ""
        rec.pbx_filename = ""
    Recording.objects.bulk_update(rows, ["status", "storage_key", "pbx_filename", "updated_at"])
    for organization_id in {rec.organization_id for rec in rows}:
        mine = [rec for rec in rows if rec.organization_id == organization_id]
        calls_show_recordings(organization_id=organization_id, recordings=mine)
        recordings_purged.send(
            sender=Recording,
            organization_id=organization_id,
            recording_ids=[rec.pk for rec in mine],
        )
    audit.record_many(
        [
            audit.Entry(
                action="recording.purge",
                organization_id=rec.organization_id,
                object_type="contactcenter.recording",
                object_id=rec.pk,
                object_label=f"call {rec.call_id}",
                changes={"status": rec.status},
                details={"reason": reason},
            )
            for rec in rows
        ]
    )
    return len(rows)
