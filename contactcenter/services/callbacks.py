"""Callbacks asked for by people (a scheduled "call me at 15:00", from the console or
the REST API) and by waiting callers (keep my place), and their cancellation.

Placing them is the PBX side's: on Twilio the routing offers a due callback to the next
free agent of its queue (telephony/twilio/routing/), which records each attempt.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.errors import ApplicationError
from contactcenter.models import Call, Callback, CallbackStatus, CallQueue
from contactcenter.phones import phone_try_normalize
from contactcenter.services import audit

_FIELDS = ["queue", "number", "place_at", "next_attempt_at", "max_attempts", "retry_seconds"]


@transaction.atomic
def callback_schedule(
    *,
    queue: CallQueue,
    number: str,
    at: datetime | None = None,
    call: Call | None = None,
    note: str = "",
    max_attempts: int = 3,
    retry_seconds: int = 300,
) -> Callback:
    """A callback to ``number`` in ``queue``'s line, placed from ``at`` (default: now).

    With ``call`` (a waiting caller pressed the key) its place is the time that caller
    joined the queue, and asking again for the same call returns the callback already
    kept. Audited (``create``).
    """
    organization = queue.organization
    e164 = phone_try_normalize(number, region=organization.default_region)
    if e164 is None:
        raise ApplicationError("Not a phone number we can call.", field="number")
    if call is not None:
        kept = Callback.objects.filter(call=call).first()
        if kept is not None:
            return kept
    now = timezone.now()
    when = at or now
    place = (call.queued_at or call.started_at) if call is not None else when
    callback = Callback(
        organization_id=queue.organization_id,
        queue=queue,
        number=e164,
        call=call,
        place_at=place,
        next_attempt_at=when,
        note=note.strip(),
        max_attempts=max_attempts,
        retry_seconds=retry_seconds,
    )
    callback.full_clean(exclude=["organization", "queue", "call", "agent"])
    try:
        with transaction.atomic():
            callback.save()
    except IntegrityError:  # the same key press, delivered twice at once
        return Callback.objects.get(call=call)
    publish.calls_changed(organization_id=queue.organization_id, queue_ids=[queue.pk])
    audit.record(
        action="create",
        organization_id=queue.organization_id,
        obj=callback,
        changes=audit.snapshot(callback, _FIELDS),
    )
    return callback


@transaction.atomic
def callback_cancel(*, callback: Callback) -> Callback:
    """Cancel a callback not yet answered nor given up (one being dialled is let be:
    its call is under way). Audited (``cancel``)."""
    locked = Callback.objects.select_for_update().get(pk=callback.pk)
    if locked.status != CallbackStatus.WAITING:
        raise ApplicationError(
            f"This callback is {locked.get_status_display().lower()}: it cannot be canceled.",
            code="callback_not_waiting",
            status=409,
        )
    locked.status = CallbackStatus.CANCELED
    locked.save(update_fields=["status", "updated_at"])
    publish.calls_changed(organization_id=locked.organization_id, queue_ids=[locked.queue_id])
    audit.record(
        action="cancel",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"status": [CallbackStatus.WAITING, CallbackStatus.CANCELED]},
    )
    return locked
