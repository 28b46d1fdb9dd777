"""Recordings as the PBX reports them: started, named, paused, resumed, stopped, ended.

Applied inside ``telephony_apply``'s transaction, after the batch's call facts, so a
recording can name a call the same batch created. Idempotent: a fact already in the
call's timeline changes nothing, and the row is keyed by the recorded leg, so the
bridge's start, ``MixMonitorStart`` and ``MIXMONITOR_FILENAME`` meet on one row in
whatever order they come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from django.db.models import Q
from django.utils import timezone

from contactcenter import facts as te
from contactcenter import publish
from contactcenter.enums import CallEventType, RecordingStatus
from contactcenter.models import Agent, Call, CallEvent, Recording
from contactcenter.models.recordings import RECORDING_FLAG
from contactcenter.services import audit
from contactcenter.services.telephony.audited import pbx_actor

OPEN = (RecordingStatus.RECORDING, RecordingStatus.PAUSED)
_FIELDS = [
    "agent",
    "status",
    "started_at",
    "ended_at",
    "duration_seconds",
    "pbx_filename",
    "format",
    "paused_spans",
    "failure",
    "updated_at",
]


@dataclass
class RecordingResult:
    call_ids: set[int] = field(default_factory=set)
    recording_ids: set[int] = field(default_factory=set)


def _span_close(rec: Recording, at: datetime) -> None:
    if rec.paused_spans and rec.paused_spans[-1].get("end") is None:
        rec.paused_spans[-1]["end"] = at.isoformat()


def _end(rec: Recording, at: datetime) -> None:
    _span_close(rec, at)
    rec.ended_at = max(at, rec.started_at)
    rec.duration_seconds = int((rec.ended_at - rec.started_at).total_seconds())
    rec.status = RecordingStatus.ENDED


def _apply_one(rec: Recording, fact: te.RecordingFact) -> tuple[CallEventType, dict[str, str]]:
    """Change ``rec`` by one fact; the timeline entry it makes."""
    if isinstance(fact, te.RecordingNamed):
        rec.pbx_filename = fact.filename[:500]
        rec.format = PurePosixPath(fact.filename).suffix.lstrip(".")[:16]
        return CallEventType.RECORDING_STARTED, {"file": rec.pbx_filename}
    if isinstance(fact, te.RecordingMuted):
        if rec.status not in OPEN:
            return CallEventType.RECORDING_PAUSED, {"ignored": "not recording"}
        if fact.muted:
            if rec.status == RecordingStatus.RECORDING:
                rec.paused_spans = [*rec.paused_spans, {"start": fact.at.isoformat(), "end": None}]
            rec.status = RecordingStatus.PAUSED
            return CallEventType.RECORDING_PAUSED, {}
        _span_close(rec, fact.at)
        rec.status = RecordingStatus.RECORDING
        return CallEventType.RECORDING_RESUMED, {}
    if isinstance(fact, te.RecordingStopped):
        if rec.status in OPEN:
            _end(rec, fact.at)
        return CallEventType.RECORDING_STOPPED, {}
    if isinstance(fact, te.RecordingFailed):
        reason = fact.reason[:200]
        if rec.status in OPEN:
            _end(rec, fact.at)
        if rec.status == RecordingStatus.ENDED:  # a stored file is not undone
            rec.status = RecordingStatus.FAILED
            rec.failure = reason
        return CallEventType.RECORDING_STOPPED, {"failed": reason}
    return CallEventType.RECORDING_STARTED, {}


def recording_facts_apply(
    *,
    organization_id: int,
    connection_key: str,
    facts: Sequence[te.RecordingFact],
    ended_call_keys: Sequence[tuple[str, str]] = (),
) -> RecordingResult:
    """Apply recording facts, then end the open recordings of the calls that ended
    (a recorded call that hangs up gives no ``MixMonitorStop``). Must run in the
    caller's transaction; records a ``recording.*`` audit entry per row changed, the
    PBX of ``connection_key`` as the actor. The caller publishes the calls it returns.
    """
    result = RecordingResult()
    if not facts and not ended_call_keys:
        return result
    keys = {(f.source, f.call_key) for f in facts} | set(ended_call_keys)
    calls = {
        (c.source, c.external_id): c
        for c in Call.objects.for_organization(organization_id).filter(
            source__in={s for s, _ in keys}, external_id__in={k for _, k in keys}
        )
    }
    by_leg: dict[tuple[str, str], Recording] = {
        (r.source, r.leg_id): r
        for r in Recording.objects.for_organization(organization_id)
        .filter(source__in={f.source for f in facts}, leg_id__in={f.leg_id for f in facts})
        .select_for_update()
    }
    agents = _agents_named(
        organization_id, {f.agent for f in facts if isinstance(f, te.RecordingStarted)} - {""}
    )
    seen = set(
        CallEvent.objects.for_organization(organization_id)
        .filter(dedup_key__in=[f.dedup_key for f in facts])
        .values_list("dedup_key", flat=True)
    )
    created: set[int] = set()
    touched: dict[int, Recording] = {}
    timeline: list[CallEvent] = []
    for fact in facts:
        call = calls.get((fact.source, fact.call_key))
        if call is None or not fact.leg_id or fact.dedup_key in seen:
            continue
        seen.add(fact.dedup_key)
        rec = by_leg.get((fact.source, fact.leg_id))
        if rec is not None and rec.status == RecordingStatus.PURGED:
            continue  # erased: what the PBX still says of it is not kept
        if rec is None:
            rec = by_leg[(fact.source, fact.leg_id)] = Recording(
                organization_id=organization_id,
                call=call,
                source=fact.source,
                leg_id=fact.leg_id,
                started_at=fact.at,
                # Unless the PBX names one: who has the call (a Twilio ring-all <Dial>
                # does not know yet which agent will answer).
                agent_id=call.agent_id,
            )
            created.add(id(rec))
        if isinstance(fact, te.RecordingStarted):
            rec.started_at = min(rec.started_at, fact.at)
            if fact.agent and fact.agent in agents:
                rec.agent = agents[fact.agent]
        kind, details = _apply_one(rec, fact)
        touched[id(rec)] = rec
        timeline.append(
            CallEvent(
                organization_id=organization_id,
                call=call,
                type=kind,
                occurred_at=fact.at,
                agent=rec.agent,
                details={"leg": fact.leg_id, **details},
                dedup_key=fact.dedup_key,
            )
        )
    _end_with_calls(organization_id, calls, ended_call_keys, touched, by_leg)
    now = timezone.now()
    for rec in touched.values():
        rec.updated_at = now
    new = [r for r in touched.values() if id(r) in created]
    Recording.objects.bulk_create(new)
    Recording.objects.bulk_update([r for r in touched.values() if id(r) not in created], _FIELDS)
    CallEvent.objects.bulk_create(timeline, ignore_conflicts=True)
    actor = pbx_actor(connection_key)
    audit.record_many(
        [
            audit.Entry(
                action="recording.create" if id(r) in created else "recording.update",
                organization_id=organization_id,
                object_type="contactcenter.recording",
                object_id=r.pk,
                object_label=f"call {r.call_id}",
                changes={"status": r.status, "file": r.pbx_filename},
            )
            for r in touched.values()
        ],
        actor=actor,
    )
    result.call_ids = calls_show_recordings(
        organization_id=organization_id, recordings=touched.values()
    )
    result.recording_ids = {r.pk for r in touched.values()}
    return result


def _agents_named(organization_id: int, names: set[str]) -> dict[str, Agent]:
    """The agents by the names the PBX gives them: Asterisk's interface, or Twilio's
    client identity (``client:agent-<pk>``, Agent.twilio_identity, or the extension a
    desk client registers as), as telephony_apply names them."""
    if not names:
        return {}
    clients = {n.removeprefix("client:") for n in names if n.startswith("client:")}
    pks = {int(c[6:]) for c in clients if c[:6] == "agent-" and c[6:].isdigit() and len(c) < 25}
    found = list(
        Agent.objects.for_organization(organization_id).filter(
            Q(interface__in=names) | Q(extension__in=clients) | Q(pk__in=pks)
        )
    )
    by_name = {a.interface: a for a in found}
    for agent in found:
        by_name.setdefault(f"client:{agent.twilio_identity}", agent)
        by_name.setdefault(f"client:{agent.extension}", agent)
    return by_name


def calls_show_recordings(*, organization_id: int, recordings: Iterable[Recording]) -> set[int]:
    """Put each call's latest recording status on the call (``flags["recording"]``,
    what the screens show), in the caller's transaction, and publish the calls that
    changed after commit. The recording's own change is what the caller audits."""
    latest: dict[int, Recording] = {}
    for rec in recordings:
        if rec.call_id not in latest or rec.started_at >= latest[rec.call_id].started_at:
            latest[rec.call_id] = rec
    if not latest:
        return set()
    calls = list(
        Call.objects.for_organization(organization_id)
        .filter(pk__in=list(latest))
        .select_for_update()
        .order_by("pk")
    )
    now = timezone.now()
    changed = []
    for call in calls:
        if call.flags.get(RECORDING_FLAG) != latest[call.pk].status:
            call.flags = {**call.flags, RECORDING_FLAG: str(latest[call.pk].status)}
            call.updated_at = now
            changed.append(call)
    Call.objects.bulk_update(changed, ["flags", "updated_at"])
    if changed:
        publish.calls_changed(organization_id=organization_id, call_ids={c.pk for c in changed})
    return {c.pk for c in changed}


def _end_with_calls(
    organization_id: int,
    calls: dict[tuple[str, str], Call],
    ended_call_keys: Sequence[tuple[str, str]],
    touched: dict[int, Recording],
    by_leg: dict[tuple[str, str], Recording],
) -> None:
    ended = [calls[k] for k in ended_call_keys if k in calls and calls[k].ended_at is not None]
    if not ended:
        return
    in_memory = {r.pk for r in by_leg.values() if r.pk is not None}
    stored = (
        Recording.objects.for_organization(organization_id)
        .filter(call__in=ended, status__in=OPEN)
        .exclude(pk__in=in_memory)
        .select_for_update()
    )
    ends = {c.pk: c.ended_at for c in ended}
    for rec in [*stored, *(r for r in by_leg.values() if r.call_id in ends)]:
        at = ends[rec.call_id]
        if rec.status in OPEN and at is not None:
            _end(rec, at)
            touched[id(rec)] = rec
