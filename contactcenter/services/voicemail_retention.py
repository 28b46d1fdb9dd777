"""How long voicemails are kept: the organization's ``recording_retention_days``, as its
recordings; and a contact's erasure takes theirs.

A voicemail is the caller's voice and words (its audio, its transcription, their
number): past the retention days, once it is dealt with (``done``), it goes, audio and
row (the callback or case it became carries the work on); a voicemail whose call is under
legal hold stays (the ``recordings_held`` hook: crm's cases). Erasing a contact removes
the voicemails of their calls whatever their state. Each is audited (``voicemail.purge``
with its reason) before it goes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.hooks import recordings_held
from contactcenter.models import Organization, Voicemail, VoicemailStatus
from contactcenter.services import audit
from contactcenter.services.recording_files import recordings_storage

logger = logging.getLogger(__name__)


def _remove(rows: Sequence[Voicemail], reason: str) -> int:
    """Delete the rows' stored audio and the rows (in the caller's transaction)."""
    storage = recordings_storage()
    for vm in rows:
        if vm.storage_key:
            try:
                storage.delete(vm.storage_key)
            except OSError:  # already gone: what matters is that it is
                logger.warning("voicemail %s: its audio %s was already gone", vm.pk, vm.storage_key)
    audit.record_many(
        [
            audit.Entry(
                action="voicemail.purge",
                organization_id=vm.organization_id,
                object_type="contactcenter.voicemail",
                object_id=vm.pk,
                details={"reason": reason},
            )
            for vm in rows
        ]
    )
    if rows:
        organization_id = rows[0].organization_id
        queues = {vm.queue_id for vm in rows if vm.queue_id is not None}
        Voicemail.objects.filter(pk__in=[vm.pk for vm in rows]).delete()
        if queues:
            publish.calls_changed(organization_id=organization_id, queue_ids=queues)
    return len(rows)


@transaction.atomic
def voicemails_erase_for_calls(*, organization_id: int, call_ids: Collection[int]) -> int:
    """A contact's erasure: the voicemails of these calls go, whatever their state."""
    rows = list(
        Voicemail.objects.for_organization(organization_id)
        .filter(call_id__in=list(call_ids))
        .select_for_update()
        .order_by("pk")
    )
    return _remove(rows, "erasure")


def voicemails_purge_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """The voicemails dealt with longer than their organization's retention days ago
    (none set: kept), except those of calls under legal hold. Returns how many went."""
    now = now or timezone.now()
    purged = 0
    organizations = Organization.objects.filter(recording_retention_days__isnull=False)
    for org_id, days in organizations.values_list("pk", "recording_retention_days"):
        purged += _purge_organization(org_id, now - timedelta(days=days or 0), limit)
    return purged


@transaction.atomic
def _purge_organization(organization_id: int, cutoff: datetime, limit: int) -> int:
    rows = list(
        Voicemail.objects.for_organization(organization_id)
        .filter(status=VoicemailStatus.DONE, left_at__lt=cutoff)
        .select_for_update(skip_locked=True)
        .order_by("left_at", "pk")[:limit]
    )
    call_ids = sorted({vm.call_id for vm in rows if vm.call_id is not None})
    held: set[int] = set()
    if call_ids:
        for _, answer in recordings_held.send(
            sender=Voicemail, organization_id=organization_id, call_ids=call_ids
        ):
            held |= {int(call_id) for call_id in answer or ()}
    return _remove([vm for vm in rows if vm.call_id not in held], "retention")
