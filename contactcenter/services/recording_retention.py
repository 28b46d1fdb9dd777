"""Recordings removed: their files deleted from the store, their rows kept as ``purged``.

Who and when are in the audit trail (``recording.purge``, the actor of the context: the
person erasing a contact, or the system for the retention job) with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.db import transaction

from contactcenter.enums import RecordingStatus
from contactcenter.models import Recording
from contactcenter.services import audit
from contactcenter.services.recording_files import recordings_storage

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


def _purge(rows: list[Recording], reason: str) -> int:
    storage = recordings_storage()
    for rec in rows:
        if rec.storage_key:
            # A file already gone is what we want; the row says purged either way.
            storage.delete(rec.storage_key)
        rec.status = RecordingStatus.PURGED
        rec.storage_key = ""
        rec.pbx_filename = ""
    Recording.objects.bulk_update(rows, ["status", "storage_key", "pbx_filename", "updated_at"])
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
