"""Changes people (and the PBX, for a disposition) make to a call record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from contactcenter import hooks, publish
from contactcenter.enums import CallEventType
from contactcenter.errors import ApplicationError
from contactcenter.models import Call, CallDisposition, CallEvent, User
from contactcenter.services import audit


def _record(
    call: Call,
    type_: str,
    details: dict[str, Any],
    actor: User | None,
    *,
    dedup_key: str = "",
    at: datetime | None = None,
) -> None:
    CallEvent.objects.create(
        organization_id=call.organization_id,
        call=call,
        type=type_,
        occurred_at=at or timezone.now(),
        details={**details, "by_user": actor.pk if actor else None},
        # A person's edit is never a replay, so its key only has to be unique.
        dedup_key=dedup_key or f"user:{uuid.uuid4()}",
    )


@transaction.atomic
def call_set_disposition(
    *,
    call: Call,
    disposition: CallDisposition | None,
    actor: User | None,
    at: datetime | None = None,
    dedup_key: str = "",
) -> Call:
    """Set (or clear) the disposition of a call and put the change in its timeline.

    ``at`` and ``dedup_key`` come with a disposition the PBX reported (the time it was
    set there, the key of its timeline entry); a person's change is now, with a new key.
    After commit: ``call.updated`` to the consoles showing the call, and the CRM's rules
    for the new disposition as a Celery task (crm.services.dispositions: a case, a
    follow-up, scheduled through ``hooks.call_disposition_changed``), once per change.
    """
    if disposition is not None:
        if disposition.organization_id != call.organization_id:
            raise ApplicationError("Unknown disposition.", field="disposition")
        if not disposition.is_active:
            raise ApplicationError("This disposition is no longer in use.", field="disposition")
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.disposition_id == (disposition.pk if disposition else None):
        return locked
    previous = locked.disposition_id
    locked.disposition = disposition
    locked.disposition_set_at = at or timezone.now()
    locked.disposition_set_by = actor
    locked.save(
        update_fields=["disposition", "disposition_set_at", "disposition_set_by", "updated_at"]
    )
    _record(
        locked,
        CallEventType.DISPOSITION_SET,
        {"disposition": disposition.code if disposition else None, "previous_id": previous},
        actor,
        dedup_key=dedup_key,
        at=at,
    )
    audit.record(
        action="disposition_set",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"disposition": [previous, locked.disposition_id]},
    )
    publish.call_edited(organization_id=locked.organization_id, call_id=locked.pk)
    hooks.call_disposition_changed.send(
        sender=Call, call_id=locked.pk, disposition_id=disposition.pk if disposition else None
    )
    return locked


@transaction.atomic
def call_update_notes(*, call: Call, notes: str, actor: User | None) -> Call:
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.notes == notes:
        return locked
    audit.record(
        action="update",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"notes": [locked.notes, notes]},
    )
    locked.notes = notes
    locked.save(update_fields=["notes", "updated_at"])
    _record(locked, CallEventType.NOTES_UPDATED, {"length": len(notes)}, actor)
    publish.call_edited(organization_id=locked.organization_id, call_id=locked.pk)
    return locked
