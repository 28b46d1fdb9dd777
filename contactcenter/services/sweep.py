"""The stale-call sweep: close calls whose hangup was never seen.

A lost hangup (a dropped AMI event, a Twilio status callback that never came) would
leave a call "in progress" for ever: on consoles, on the wallboard's waiting count and
in every report. The sweep closes calls still open ``CALLS_STALE_AFTER_HOURS`` after
they started. How a swept call counts in reports is in docs/reports.md.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Call, CallEvent
from contactcenter.services import audit
from contactcenter.services.telephony.calls import ENDED_WHILE_AWAY
from contactcenter.services.telephony.derive import derive_status, is_answered
from contactcenter.transitions import ACTIVE_CALL_STATUSES

SWEPT = "closed_stale"
BATCH = 200
# Entries people add (not the PBX): they say nothing about when the call was last alive.
_PERSON_ENTRIES = (CallEventType.DISPOSITION_SET, CallEventType.NOTES_UPDATED)


def _stale_reason(hours: int) -> str:
    return f"no hangup seen within {hours} hours"


def _last_seen(call: Call, latest_entry: datetime | None, now: datetime) -> datetime:
    """The last instant the records show the call alive; the swept call ends there."""
    known = [call.started_at, call.queued_at, call.answered_at, call.abandoned_at]
    known += [call.held_since, latest_entry]
    return min(max(t for t in known if t is not None), now)


def _close(call: Call, ended_at: datetime, hours: int, now: datetime) -> None:
    call.ended_at = max(ended_at, call.started_at)
    # Hold and talk time are unknown: leaving talk_seconds null keeps the call out of
    # AHT instead of counting hours that never happened (or a made-up zero).
    call.held_since = None
    call.talk_seconds = None
    if not is_answered(call) and call.abandoned_at is None:
        # No answer and no abandon verdict: what happened is unknown, so the call counts
        # as offered only (not as an abandon that would hurt the service level).
        call.end_outcome = CallStatus.FAILED
    call.hangup_cause_text = f"closed by the sweep: {_stale_reason(hours)}"
    # A hangup that does arrive later (a replayed stream) still overrides this close.
    call.flags[ENDED_WHILE_AWAY] = True
    call.flags[SWEPT] = {"at": now.isoformat(), "max_age_hours": hours}
    call.status = derive_status(call)


def _sweep_batch(cutoff: datetime, hours: int, now: datetime) -> list[Call]:
    with transaction.atomic():
        calls = list(
            Call.objects.filter(
                status__in=ACTIVE_CALL_STATUSES, ended_at__isnull=True, started_at__lt=cutoff
            )
            # The bridge may hold a call right now: skip it, the next sweep takes it.
            .select_for_update(skip_locked=True)
            .order_by("pk")[:BATCH]
        )
        if not calls:
            return []
        latest = dict(
            CallEvent.objects.filter(call__in=calls)
            .exclude(type__in=_PERSON_ENTRIES)
            .values("call_id")
            .annotate(last=Max("occurred_at"))
            .values_list("call_id", "last")
        )
        events = []
        for call in calls:
            status_before = call.status
            _close(call, _last_seen(call, latest.get(call.pk), now), hours, now)
            events.append(
                CallEvent(
                    organization_id=call.organization_id,
                    call=call,
                    type=CallEventType.CLOSED_STALE,
                    occurred_at=now,
                    details={
                        "kind": "swept",
                        "reason": _stale_reason(hours),
                        "status_before": status_before,
                        "status": call.status,
                        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
                    },
                    # One close per call: a second sweep never adds a second entry.
                    dedup_key=f"sweep:{call.pk}",
                )
            )
        for call in calls:
            call.updated_at = now
        Call.objects.bulk_update(
            calls,
            [
                "status",
                "ended_at",
                "held_since",
                "talk_seconds",
                "end_outcome",
                "hangup_cause_text",
                "flags",
                "updated_at",
            ],
        )
        CallEvent.objects.bulk_create(events, ignore_conflicts=True)
        audit.record_many(
            [
                audit.Entry(
                    action="close_stale",
                    organization_id=event.organization_id,
                    object_type="contactcenter.call",
                    object_id=event.call.pk,
                    changes={
                        "status": [event.details["status_before"], event.details["status"]],
                        "ended_at": [None, event.details["ended_at"]],
                    },
                )
                for event in events
            ]
        )
        by_org: dict[int, list[Call]] = defaultdict(list)
        for call in calls:
            by_org[call.organization_id].append(call)
        for organization_id, closed in by_org.items():
            publish.calls_changed(
                organization_id=organization_id,
                call_ids=[c.pk for c in closed],
                queue_ids={c.queue_id for c in closed if c.queue_id is not None},
            )
        return calls


def calls_sweep_stale(*, now: datetime | None = None, max_age_hours: int | None = None) -> int:
    """Close every call (of any organization) still open ``max_age_hours`` after it started.

    The call ends at the last instant its records show it alive, gets a
    ``call.closed_stale`` timeline entry saying why, and is published after commit
    (consoles drop it, wallboards stop counting it as waiting). Idempotent: a swept call
    is ended and never selected again. Returns how many calls were closed.
    """
    now = now or timezone.now()
    hours = max_age_hours if max_age_hours is not None else settings.CALLS_STALE_AFTER_HOURS
    if hours < 1:
        raise ValueError("max_age_hours must be at least 1")
    cutoff = now - timedelta(hours=hours)
    closed = 0
    while True:
        batch = _sweep_batch(cutoff, hours, now)
        closed += len(batch)
        if len(batch) < BATCH:
            return closed
