"""Supervisors' monitoring sessions (listen, whisper, barge) on the calls' timelines.

The PBX reports each session's start and end (``MonitorStarted`` / ``MonitorStopped``);
each becomes a timeline entry of the spied call, ``monitor.started`` or
``monitor.stopped`` (with how long it lasted), and an audit entry saying which
supervisor monitored which call, how, when. The entries name no agent (``agent`` is
null): the supervisor is no party of the call. The agent's console shows a whisper or a
barge only where the organization lets agents see it (``agents_see_monitoring``, read
as the session starts): the call's ``COACHED_FLAG``, in its messages; otherwise nothing
reaches the agent's screens, not even a message (its timing would tell). The
supervisors' floor reads again either way (``publish.floor_changed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contactcenter import facts as te
from contactcenter import publish
from contactcenter.enums import CallEventType
from contactcenter.models import Agent, Call, CallEvent, Membership, Organization
from contactcenter.models.calls import COACHED_FLAG
from contactcenter.services import audit
from contactcenter.services.telephony.audited import pbx_actor


def _supervisors(organization_id: int, phones: set[str]) -> dict[str, dict[str, object]]:
    """Who each phone is: the supervisor whose profile has it (docs/supervisor.md)."""
    rows = Agent.objects.for_organization(organization_id).filter(interface__in=phones)
    return {a.interface: {"user_id": a.user_id, "name": a.name} for a in rows}


def _started_at(organization_id: int, sessions: set[str]) -> dict[str, datetime]:
    rows = CallEvent.objects.for_organization(organization_id).filter(
        type=CallEventType.MONITOR_STARTED, details__session__in=sessions
    )
    return {row.details["session"]: row.occurred_at for row in rows}


def monitor_facts_apply(
    *, organization_id: int, connection_key: str, facts: Sequence[te.MonitorFact]
) -> set[int]:
    """The monitoring facts as timeline and audit entries; idempotent (``dedup_key``).
    Must run in the caller's transaction. Returns the ids of the calls they are on."""
    if not facts:
        return set()
    calls = {
        (c.source, c.external_id): c
        for c in Call.objects.for_organization(organization_id).filter(
            source__in={f.source for f in facts}, external_id__in={f.call_key for f in facts}
        )
    }
    seen = set(
        CallEvent.objects.for_organization(organization_id)
        .filter(dedup_key__in=[f.dedup_key for f in facts])
        .values_list("dedup_key", flat=True)
    )
    who = _supervisors(organization_id, {f.phone for f in facts})
    started = _started_at(organization_id, {f.session for f in facts})
    timeline: list[CallEvent] = []
    entries: list[audit.Entry] = []
    for fact in facts:
        call = calls.get((fact.source, fact.call_key))
        if call is None or fact.dedup_key in seen:
            continue
        seen.add(fact.dedup_key)
        details: dict[str, object] = {
            "session": fact.session,
            "mode": fact.mode,
            "phone": fact.phone,
            "agent": fact.agent,
            "supervisor": who.get(fact.phone),
        }
        if isinstance(fact, te.MonitorStarted):
            kind = CallEventType.MONITOR_STARTED
            started.setdefault(fact.session, fact.at)
        else:
            kind = CallEventType.MONITOR_STOPPED
            began = started.get(fact.session)
            if began is not None:
                details["seconds"] = max(0, round((fact.at - began).total_seconds()))
        timeline.append(
            CallEvent(
                organization_id=organization_id,
                call=call,
                type=kind,
                occurred_at=fact.at,
                details=details,
                dedup_key=fact.dedup_key,
            )
        )
        entries.append(
            audit.Entry(
                action=str(kind),
                organization_id=organization_id,
                object_type=audit.object_type_of(call),
                object_id=call.pk,
                object_label=audit.label_of(call),
                details=details,
                at=fact.at,
            )
        )
    CallEvent.objects.bulk_create(timeline, ignore_conflicts=True)
    audit.record_many(entries, actor=pbx_actor(connection_key))
    applied = {event.dedup_key for event in timeline}
    coached = _coached(organization_id, calls, [f for f in facts if f.dedup_key in applied])
    for call_id in sorted(coached):
        publish.call_edited(organization_id=organization_id, call_id=call_id)
    if timeline:
        publish.floor_changed(organization_id=organization_id)
    return {event.call_id for event in timeline}


_TOLD = ("whisper", "barge")  # a supervisor only listening is never shown


def _coached(
    organization_id: int, calls: dict[tuple[str, str], Call], facts: Sequence[te.MonitorFact]
) -> set[int]:
    """The calls whose ``COACHED_FLAG`` the facts change (the policy allowing): set
    by a whisper's or barge's start, cleared by the end of the session that set it."""
    told = [f for f in facts if f.mode in _TOLD]
    if not told:
        return set()
    if not Organization.objects.filter(pk=organization_id, agents_see_monitoring=True).exists():
        # Still cleared if the policy was turned off during the session.
        told = [f for f in told if isinstance(f, te.MonitorStopped)]
    keys = {(f.source, f.call_key) for f in told}
    call_ids = [call.pk for key, call in calls.items() if key in keys]
    # Read again under lock: the flags are the call's, other writers keep theirs.
    locked = {
        (c.source, c.external_id): c
        for c in Call.objects.select_for_update().filter(pk__in=call_ids).order_by("pk")
    }
    changed: dict[int, Call] = {}
    for fact in told:
        call = locked.get((fact.source, fact.call_key))
        if call is None:
            continue
        flag = call.flags.get(COACHED_FLAG)
        if isinstance(fact, te.MonitorStarted):
            call.flags = {**call.flags, COACHED_FLAG: {"mode": fact.mode, "session": fact.session}}
        elif isinstance(flag, dict) and flag.get("session") == fact.session:
            call.flags = {k: v for k, v in call.flags.items() if k != COACHED_FLAG}
        else:
            continue
        changed[call.pk] = call
    now = timezone.now()
    for call in changed.values():
        Call.objects.filter(pk=call.pk).update(flags=call.flags, updated_at=now)
    return set(changed)


def session_mode(*, call: Call, session: str) -> str:
    """The mode a monitoring session on ``call`` was last set to: as it started, or its
    last switch ("" for a session not on the timeline)."""
    rows = (
        CallEvent.objects.for_organization(call.organization_id)
        .filter(
            call=call,
            type__in=(CallEventType.MONITOR_STARTED, CallEventType.MONITOR_MODE_CHANGED),
            details__session=session,
        )
        .order_by("-occurred_at", "-pk")
        .values_list("details__mode", flat=True)
    )
    return str(rows.first() or "")


@transaction.atomic
def monitor_mode_changed(
    *, call: Call, session: str, mode: str, previous: str, phone: str, supervisor: Membership
) -> CallEvent:
    """The supervisor switched their live session on ``call`` to ``mode`` within the same
    monitoring call (the PBX took the key: ChanSpy reports no switch, so the request's
    answer is the record): a ``monitor.mode_changed`` timeline entry and audit entry,
    the agent told as the policy says, the supervisors' floor read again."""
    who = {"user_id": supervisor.user_id, "name": supervisor.user.get_full_name()}
    details: dict[str, object] = {
        "session": session,
        "mode": mode,
        "from": previous,
        "phone": phone,
        "supervisor": who,
    }
    now = timezone.now()
    event = CallEvent.objects.create(
        organization_id=call.organization_id,
        call=call,
        type=CallEventType.MONITOR_MODE_CHANGED,
        occurred_at=now,
        details=details,
        dedup_key=f"monitor-mode:{session}:{now.isoformat()}",
    )
    audit.record(
        action=str(CallEventType.MONITOR_MODE_CHANGED),
        organization_id=call.organization_id,
        obj=call,
        details=details,
    )
    if _coached_switch(call, session, mode):
        publish.call_edited(organization_id=call.organization_id, call_id=call.pk)
    publish.floor_changed(organization_id=call.organization_id)
    return event


def _coached_switch(call: Call, session: str, mode: str) -> bool:
    """The call's ``COACHED_FLAG`` after a switch: set for a whisper or a barge where the
    policy tells agents, cleared when the session that set it goes back to listening."""
    locked = Call.objects.select_for_update().get(pk=call.pk)
    flag = locked.flags.get(COACHED_FLAG)
    told = Organization.objects.filter(pk=call.organization_id, agents_see_monitoring=True).exists()
    if mode in _TOLD and told:
        flags = {**locked.flags, COACHED_FLAG: {"mode": mode, "session": session}}
    elif isinstance(flag, dict) and flag.get("session") == session:
        flags = {k: v for k, v in locked.flags.items() if k != COACHED_FLAG}
    else:
        return False
    if flags == locked.flags:
        return False
    Call.objects.filter(pk=call.pk).update(flags=flags, updated_at=timezone.now())
    return True
