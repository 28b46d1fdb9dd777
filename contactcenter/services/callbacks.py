"""Callbacks asked for by people (a scheduled "call me at 15:00", from the console or
the REST API) and by waiting callers (keep my place), and their cancellation.

Placing them is the PBX side's: on Twilio the routing offers a due callback to the next
free agent of its queue (telephony/twilio/routing/); on Asterisk it is offered in the
console (``callback_offers``) and placed from the agent's phone. Either way each attempt
ends here: ``callback_attempt_answered`` or ``callback_attempt_over``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import CallEventType
from contactcenter.errors import ApplicationError
from contactcenter.models import Call, Callback, CallbackStatus, CallEvent, CallQueue
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
    asked_while_waiting: bool = True,
    connection_key: str = "",
) -> Callback:
    """A callback to ``number`` in ``queue``'s line, placed from ``at`` (default: now).

    With ``call`` its place is the time that caller joined the queue, and asking again
    for the same call returns the callback already kept. ``asked_while_waiting`` (the
    caller pressed the key in the queue): the call is marked as having asked
    (``_call_asked``); not so for a callback made of it afterwards (a voicemail's).
    Audited (``create``; by the PBX of ``connection_key``, when the PBX reported the
    caller's request).
    """
    organization = queue.organization
    e164 = phone_try_normalize(number, region=organization.default_region)
    if e164 is None:
        raise ApplicationError("Not a phone number we can call.", field="number")
    if call is not None:
        # The call first, then its callback: the order the PBX facts' apply takes them
        # in (inserting the callback first, its foreign key's share lock on the call
        # would deadlock against a webhook locking the call to update it).
        call = Call.objects.select_for_update().get(pk=call.pk)
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
    if call is not None and asked_while_waiting:
        _call_asked(call, callback, now)
    publish.calls_changed(organization_id=queue.organization_id, queue_ids=[queue.pk])
    audit.record(
        action="create",
        organization_id=queue.organization_id,
        obj=callback,
        changes=audit.snapshot(callback, _FIELDS),
        actor=_pbx(connection_key),
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


def _call_asked(call: Call, callback: Callback, at: datetime) -> None:
    """The call the callback was asked from: a ``callback.requested`` entry on its
    timeline, and the flag that makes it, once ended unanswered, a CALLBACK call rather
    than an abandoned one (its queue's figures: docs/callbacks.md)."""
    # Imported here: services.telephony (the PBX facts' apply) imports this module.
    from contactcenter.services.telephony.derive import CALLBACK_KEPT, derive_status

    if not call.flags.get(CALLBACK_KEPT):  # ``call`` is locked (callback_schedule)
        call.flags[CALLBACK_KEPT] = True
        call.status = derive_status(call)
        call.save(update_fields=["flags", "status", "updated_at"])
    CallEvent.objects.bulk_create(
        [
            CallEvent(
                organization_id=call.organization_id,
                call_id=call.pk,
                type=CallEventType.CALLBACK_REQUESTED,
                occurred_at=at,
                details={"callback": callback.pk, "number": callback.number},
                dedup_key=f"callback:{callback.pk}:requested",
            )
        ],
        ignore_conflicts=True,
    )
    publish.calls_changed(organization_id=call.organization_id, call_ids=[call.pk])


def _queue_figures_changed(callback: Callback) -> None:
    """The queue's callbacks waiting changed: its wallboards are refreshed."""
    publish.calls_changed(organization_id=callback.organization_id, queue_ids=[callback.queue_id])


def _pbx(connection_key: str) -> audit.Actor | None:
    """The actor of a write the PBX of ``connection_key`` reported; with no key, None
    (the context's actor)."""
    # Imported here: services.telephony (the PBX facts' apply) imports this module.
    from contactcenter.services.telephony.audited import pbx_actor

    return pbx_actor(connection_key) if connection_key else None


def _attempt_audited(callback: Callback, before: dict[str, Any], connection_key: str) -> None:
    """The attempt's outcome in the audit trail (``attempt``): the PBX of
    ``connection_key`` when its record of the placed call said how it went, else the
    context's actor (a person whose call the PBX refused, a job finding it lost)."""
    audit.record(
        action="attempt",
        organization_id=callback.organization_id,
        obj=callback,
        changes=audit.changed(before, audit.snapshot(callback, before.keys())),
        details={"outcome": callback.last_outcome, "attempt": callback.attempts},
        actor=_pbx(connection_key),
    )


_ATTEMPT_FIELDS = ["status", "last_outcome", "next_attempt_at"]


@transaction.atomic
def callback_attempt_over(
    *, callback_id: int, outcome: str, at: datetime, connection_key: str = ""
) -> Callback | None:
    """The attempt under way did not reach the customer (``outcome``: no_answer, busy,
    failed, canceled, lost): it waits ``retry_seconds`` for the next, or is given up
    after ``max_attempts``. Nothing for a callback not being dialled (a repeated report).
    Audited (``attempt``; by the PBX of ``connection_key`` when given)."""
    callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
    if callback is None or callback.status != CallbackStatus.DIALING:
        return None
    before = audit.snapshot(callback, _ATTEMPT_FIELDS)
    callback.last_outcome = outcome
    if callback.attempts >= callback.max_attempts:
        callback.status = CallbackStatus.GIVEN_UP
    else:
        callback.status = CallbackStatus.WAITING
        callback.next_attempt_at = at + timedelta(seconds=callback.retry_seconds)
    callback.save(update_fields=["status", "last_outcome", "next_attempt_at", "updated_at"])
    _attempt_audited(callback, before, connection_key)
    _queue_figures_changed(callback)
    return callback


@transaction.atomic
def callback_attempt_answered(*, callback_id: int, connection_key: str = "") -> Callback | None:
    """The customer answered the attempt under way: the callback is done. Audited
    (``attempt``; by the PBX of ``connection_key`` when given)."""
    callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
    if callback is None or callback.status != CallbackStatus.DIALING:
        return None
    before = audit.snapshot(callback, _ATTEMPT_FIELDS)
    callback.status, callback.last_outcome = CallbackStatus.ANSWERED, "answered"
    callback.save(update_fields=["status", "last_outcome", "updated_at"])
    _attempt_audited(callback, before, connection_key)
    _queue_figures_changed(callback)
    return callback
