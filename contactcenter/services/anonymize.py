"""Calls kept without the person: what a contact's erasure leaves of their calls
(crm/services/erasure.py finds which calls were theirs)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.utils import timezone

from contactcenter.enums import CallDirection
from contactcenter.models import Call, CallEvent
from contactcenter.services import audit
from contactcenter.services.recording_retention import recordings_purge_for_calls
from contactcenter.services.voicemail_retention import voicemails_erase_for_calls

ERASED = "erased"  # the flag an anonymized call carries


def _scrubbed(value: Any, identifiers: Collection[str]) -> Any:
    if isinstance(value, str):
        return "" if value in identifiers else value
    if isinstance(value, dict):
        return {key: _scrubbed(item, identifiers) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, identifiers) for item in value]
    return value


@transaction.atomic
def calls_anonymize(
    *, organization_id: int, call_ids: Collection[int], identifiers: Collection[str]
) -> int:
    """Remove the customer from these calls of the organization: their number (the
    caller's on an inbound call, the callee's on an outbound one), the caller name, the
    link to the contact, the agent's notes and the recording's reference, and the
    recordings themselves (files deleted, rows kept as purged); and every
    value equal to one of ``identifiers`` (the numbers and names as written) from the
    calls' event details. What the figures need stays: times, queue, agent, outcome,
    disposition. Returns how many calls were changed.
    """
    calls = list(
        Call.objects.for_organization(organization_id)
        .select_for_update()
        .filter(pk__in=list(call_ids))
        .order_by("pk")
    )
    now = timezone.now()
    for call in calls:
        call.updated_at = now
        if call.direction == CallDirection.OUTBOUND:
            call.callee_number = ""
        else:
            call.caller_number = ""
            call.caller_name = ""
        call.contact = None
        call.notes = ""
        call.recording_ref = ""
        call.flags = {**call.flags, ERASED: True}
    fields = ["caller_number", "caller_name", "callee_number", "contact", "notes"]
    Call.objects.bulk_update(calls, [*fields, "recording_ref", "flags", "updated_at"])
    events = list(CallEvent.objects.filter(call_id__in=[call.pk for call in calls]))
    for event in events:
        event.details = _scrubbed(event.details, identifiers)
    CallEvent.objects.bulk_update(events, ["details"])
    # The customer's voice is theirs too: the recordings' files go, the rows stay purged.
    recordings_purge_for_calls(
        organization_id=organization_id, call_ids=[c.pk for c in calls], reason="erasure"
    )
    # So are the messages they left (audio, transcription, number): gone.
    voicemails_erase_for_calls(organization_id=organization_id, call_ids=[c.pk for c in calls])
    audit.record_many(
        [
            audit.Entry(
                action="anonymize",
                organization_id=organization_id,
                object_type="contactcenter.call",
                object_id=call.pk,
            )
            for call in calls
        ]
    )
    return len(calls)
