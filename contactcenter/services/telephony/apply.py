"""One batch of telephony events, one transaction.

The batch is applied in memory against rows loaded (and locked) once, then written
with a handful of bulk statements: the bridge's throughput depends on it. A fact whose
``dedup_key`` is already in a call's timeline was applied before (a replay, a
re-delivered webhook) and changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.db import roundtrips
from contactcenter import facts as te
from contactcenter import publish
from contactcenter.models import (
    Agent,
    Call,
    CallDisposition,
    CallQueue,
    CallTransfer,
    Organization,
)
from contactcenter.services.calls import call_set_disposition
from contactcenter.services.monitoring import monitor_facts_apply
from contactcenter.services.recordings import RECORDING_FLAG
from contactcenter.services.telephony import audited, bulk
from contactcenter.services.telephony.agents import apply_agent_facts
from contactcenter.services.telephony.callbacks import keep_requested_callbacks
from contactcenter.services.telephony.calls import (
    Lookups,
    Timeline,
    apply_call_fact,
    apply_transfer,
    close_unseen,
    new_call,
)
from contactcenter.services.telephony.merged import calls_merge
from contactcenter.services.telephony.recorded import recorded_from_start, recordings_apply
from contactcenter.services.voicemails import voicemail_facts_apply
from contactcenter.transitions import ACTIVE_CALL_STATUSES

logger = logging.getLogger(__name__)

_CALL_FIELDS = [
    "direction",
    "status",
    "caller_number",
    "caller_name",
    "callee_number",
    "queue",
    "agent",
    "started_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "held_since",
    "abandoned_at",
    "end_outcome",
    "hangup_cause",
    "hangup_cause_text",
    "hangup_by",
    "flags",
    "updated_at",
]


_TRANSFER_FIELDS = [
    "kind",
    "status",
    "from_agent",
    "to_agent",
    "to_number",
    "requested_at",
    "answered_at",
    "completed_at",
    "details",
]


@dataclass
class ApplyResult:
    """What changed, for the caller to publish after commit."""

    call_ids: set[int] = field(default_factory=set)
    agent_ids: set[int] = field(default_factory=set)
    queue_ids: set[int] = field(default_factory=set)
    applied: int = 0
    duplicates: int = 0
    # The batch's calls that have had a recording (Call.flags, set by the recordings'
    # service): the only ones whose hang-up may end one.
    recorded_calls: set[tuple[str, str]] = field(default_factory=set)
    # The batch's answered calls (call keys) that its organization's recording policy
    # records from the start: their queue's policy, else the organization's. Read in the
    # batch's own first round trip, so the bridge asks the database nothing more.
    record_from_start: set[str] = field(default_factory=set)


_AGENT_FIELDS: dict[type, tuple[str, ...]] = {}


def _agent_fields(event: te.Fact) -> tuple[str, ...]:
    """The fields of the event's type that name an agent (``agent``, ``to_agent``...)."""
    kind = type(event)
    if kind not in _AGENT_FIELDS:
        names = [f.name for f in dataclasses.fields(event)]
        _AGENT_FIELDS[kind] = tuple(n for n in names if n == "agent" or n.endswith("_agent"))
    return _AGENT_FIELDS[kind]


def _named_agents(organization_id: int, events: Sequence[te.Fact]) -> roundtrips.Read:
    """The agents the batch names. Only those agents: a floor of a thousand costs a
    batch no more than a floor of ten."""
    names = {getattr(e, f) for e in events for f in _agent_fields(e)} - {""}
    # Twilio names agents by client identity: the softphone's (Agent.twilio_identity,
    # ``agent-<pk>``), or their extension, which a desk client may register as.
    clients = {n.removeprefix("client:") for n in names if n.startswith("client:")}
    pks = {int(c[6:]) for c in clients if c.startswith("agent-") and c[6:].isdigit()}
    if not names:
        return None
    return _NAMED_AGENTS(organization_id, list(names), list(clients), list(pks))


# The batch's first reads, built once (roundtrips.Shape).
_LOCKED_CALLS = roundtrips.Shape(
    lambda organization_id, sources, call_keys: (
        Call.objects.for_organization(organization_id)
        .filter(source__any=sources, external_id__any=call_keys)
        .select_for_update()
        .order_by("pk")
    )
)
_NAMED_AGENTS = roundtrips.Shape(
    lambda organization_id, names, clients, pks: Agent.objects.for_organization(
        organization_id
    ).filter(Q(interface__any=names) | Q(extension__any=clients) | Q(pk__any=pks))
)
_QUEUES = roundtrips.Shape(
    lambda organization_id: CallQueue.objects.for_organization(organization_id)
)
_RECORDING_POLICY = roundtrips.Shape(
    lambda organization_id: Organization.objects.filter(pk=organization_id).values_list(
        "recording_policy", flat=True
    )
)
_STORED_TRANSFERS = roundtrips.Shape(
    lambda organization_id, keys: CallTransfer.objects.for_organization(organization_id).filter(
        dedup_key__any=keys
    )
)


def _lookups_of(agents: Iterable[Agent], queues: Iterable[CallQueue]) -> Lookups:
    by_name = {a.interface: a for a in agents}
    for agent in list(by_name.values()):
        by_name.setdefault(f"client:{agent.twilio_identity}", agent)
        by_name.setdefault(f"client:{agent.extension}", agent)
    return Lookups(agents=by_name, queues={q.pbx_queue_name: q for q in queues})


@transaction.atomic
def telephony_apply(
    *, organization_id: int, connection_key: str, events: Sequence[te.Fact]
) -> ApplyResult:
    """Apply ``events`` in order for one organization and PBX connection.

    Idempotent per event (``dedup_key``); the call status is derived from the facts,
    so the outcome does not depend on the order facts arrive in. After commit, the
    changed calls, agents and queues are published (contactcenter.publish). The writes
    go out together, in as few round trips as the reads between them allow
    (``roundtrips``).
    """
    recorded = [e for e in events if isinstance(e, te.RecordingFact)]
    monitored = [e for e in events if isinstance(e, te.MonitorFact)]
    voicemails = [e for e in events if isinstance(e, te.VoicemailLeft)]
    if recorded or monitored or voicemails:
        events = [
            e
            for e in events
            if not isinstance(e, te.RecordingFact | te.MonitorFact | te.VoicemailLeft)
        ]
    with roundtrips.together():
        result = _apply(organization_id, connection_key, events)
    if monitored:
        # Timeline and audit, the supervisors' floor; the agent's console only where the
        # organization's policy tells agents (contactcenter/services/monitoring.py).
        monitor_facts_apply(
            organization_id=organization_id, connection_key=connection_key, facts=monitored
        )
        result.applied += len(monitored)
    if voicemails:
        voicemail_facts_apply(
            organization_id=organization_id, connection_key=connection_key, facts=voicemails
        )
        result.applied += len(voicemails)
    # Only a call that has (or is getting) a recording can have one to end: a batch of
    # unrecorded hang-ups costs no recording reads.
    with_recording = result.recorded_calls | {(f.source, f.call_key) for f in recorded}
    ended = [
        (e.source, e.call_key)
        for e in events
        if isinstance(e, te.CallEnded) and (e.source, e.call_key) in with_recording
    ]
    if recorded or ended:
        result.call_ids |= recordings_apply(organization_id, connection_key, recorded, ended)
        result.applied += len(recorded)
    return result


def _apply(organization_id: int, connection_key: str, events: Sequence[te.Fact]) -> ApplyResult:
    result = ApplyResult()
    call_facts = [e for e in events if isinstance(e, te.CallFactBase)]
    keys = {(f.source, f.call_key) for f in call_facts}
    transfer_keys = [e.transfer_key for e in call_facts if isinstance(e, te.TransferFact)]
    # What the batch needs to know first, asked in one round trip; the calls are locked
    # before anything else (the lock order: calls, then agents).
    sources, call_keys = list({s for s, _ in keys}), [k for _, k in keys]
    answered = [e for e in call_facts if isinstance(e, te.CallAnswered)]
    rows, agents, queues, stored, transfer_rows, policy = roundtrips.read_together(
        _LOCKED_CALLS(organization_id, sources, call_keys) if keys else None,
        _named_agents(organization_id, events),
        _QUEUES(organization_id),
        bulk.stored_dedup_keys_read(organization_id, [f.dedup_key for f in call_facts]),
        _STORED_TRANSFERS(organization_id, transfer_keys) if transfer_keys else None,
        _RECORDING_POLICY(organization_id) if answered else None,
    )
    lk = _lookups_of(agents, queues)
    result.record_from_start = recorded_from_start(answered, lk, policy[0] if policy else "")
    calls: dict[tuple[str, str], Call] = {(c.source, c.external_id): c for c in rows}
    loaded = {c.pk: _state(c) for c in rows}  # what the audit entries compare with
    seen = {key for (key,) in stored}
    transfers = {t.dedup_key: t for t in transfer_rows}
    timeline: list[tuple[Call, str, datetime, Timeline]] = []
    touched: dict[tuple[str, str], Call] = {}
    merges: list[te.CallMerged] = []
    dispositions: list[te.DispositionReported] = []
    requests: list[te.CallbackRequested] = []
    for event in events:
        if isinstance(event, te.ResyncCompleted):
            _close_unseen_calls(organization_id, connection_key, event, calls, touched, timeline)
            continue
        if not isinstance(event, te.CallFactBase):
            continue
        if isinstance(event, te.CallMerged):
            merges.append(event)
            continue
        if not event.call_key or event.dedup_key in seen:
            result.duplicates += 1
            continue
        seen.add(event.dedup_key)
        if isinstance(event, te.DispositionReported):
            dispositions.append(event)  # applied below, as a person's choice would be
            continue
        if isinstance(event, te.CallbackRequested):
            requests.append(event)  # kept below, once the batch's calls are saved
            continue
        key = (event.source, event.call_key)
        call = calls.get(key)
        if call is None:
            call = calls[key] = new_call(event, organization_id, connection_key)
        if isinstance(event, te.TransferFact):
            entry = apply_transfer(call, event, lk, transfers)
        else:
            before = _state(call)
            entry = apply_call_fact(call, event, lk)
            if entry.dedup_key and call.pk is not None and _state(call) == before:
                # A restatement that changes nothing (a repeated Twilio callback's start):
                # nothing to write. (A call this fact creates is new whatever it says.)
                result.duplicates += 1
                continue
        timeline.append((call, event.dedup_key, event.at, entry))
        touched[key] = call
        result.applied += 1

    inserted = {id(c) for c in touched.values() if c.pk is None}
    _save_calls(list(touched.values()))
    if transfers:
        for transfer in transfers.values():
            transfer.call_id = transfer.call.pk
        CallTransfer.objects.bulk_create(
            list(transfers.values()),
            update_conflicts=True,
            unique_fields=["organization", "dedup_key"],
            update_fields=_TRANSFER_FIELDS,
        )
    _write_timeline(organization_id, timeline)
    merged = calls_merge(organization_id, merges)
    merged_away = set(merged)
    result.applied += _apply_dispositions(organization_id, dispositions)
    result.applied += keep_requested_callbacks(organization_id, requests, lk, connection_key)
    # A call a merge went into is published too: its timeline changed, even when
    # nothing else of the batch touched it.
    result.call_ids = ({c.pk for c in touched.values()} | set(merged.values())) - merged_away
    result.queue_ids = {c.queue_id for c in touched.values() if c.queue_id}
    agent_result = apply_agent_facts(
        organization_id=organization_id,
        lookups=lk,
        facts=[
            e
            for e in events
            if isinstance(e, te.AgentMemberState | te.AgentPauseChanged | te.AgentMembershipChanged)
        ],
    )
    result.agent_ids |= agent_result.agent_ids
    result.queue_ids |= agent_result.queue_ids
    audited.rows_insert(
        [
            *audited.call_rows(
                organization_id,
                (c for c in touched.values() if c.pk not in merged_away),
                loaded,
                _STATE_NAMES,
                _state,
                inserted,
            ),
            *audited.agent_rows(organization_id, agent_result.changes),
        ],
        connection_key=connection_key,
    )
    # After commit, one publish for the whole batch: call messages to the consoles of the
    # agents concerned, agent states, one "queues changed" ping (coalesced downstream).
    publish.calls_changed(
        organization_id=organization_id,
        call_ids=result.call_ids,
        agent_ids=result.agent_ids,
        queue_ids=result.queue_ids,
    )
    result.recorded_calls = {key for key, call in calls.items() if RECORDING_FLAG in call.flags}
    return result


def _close_unseen_calls(
    organization_id: int,
    connection_key: str,
    event: te.ResyncCompleted,
    calls: dict[tuple[str, str], Call],
    touched: dict[tuple[str, str], Call],
    timeline: list[tuple[Call, str, datetime, Timeline]],
) -> None:
    open_calls = (
        Call.objects.for_organization(organization_id)
        .filter(
            source=event.source,
            connection_key=connection_key,
            status__in=ACTIVE_CALL_STATUSES,
            started_at__lte=event.at,
        )
        .exclude(external_id__in=event.live_call_keys)
        .select_for_update()
        .order_by("pk")
    )
    for row in open_calls:
        key = (row.source, row.external_id)
        call = calls.setdefault(key, row)
        if call.ended_at is not None:
            continue
        entry = close_unseen(call, event.at, connection_key)
        dedup = f"resync:{connection_key}:{event.at.isoformat()}:{call.external_id}"
        timeline.append((call, dedup, event.at, entry))
        touched[key] = call


def _apply_dispositions(organization_id: int, facts: list[te.DispositionReported]) -> int:
    """Set the dispositions the PBX reported, through the same service as the console
    (so the CRM's rules run the same way). An unknown or retired code, or a call we do
    not have, is logged and skipped; a report older than the call's current disposition
    (a replay after someone changed it) changes nothing."""
    if not facts:
        return 0
    scope = CallDisposition.objects.for_organization(organization_id)
    by_code = {d.code: d for d in scope.filter(code__in={f.code for f in facts})}
    applied = 0
    for fact in facts:
        disposition = by_code.get(fact.code)
        call = (
            Call.objects.for_organization(organization_id)
            .filter(source=fact.source, external_id=fact.call_key)
            .first()
        )
        if disposition is None or not disposition.is_active or call is None:
            logger.warning(
                "disposition %r for call %s skipped: %s",
                fact.code,
                fact.call_key,
                "no such call" if call is None else "no such disposition in use",
            )
            continue
        if call.disposition_set_at is not None and call.disposition_set_at > fact.at:
            continue
        call_set_disposition(
            call=call, disposition=disposition, actor=None, at=fact.at, dedup_key=fact.dedup_key
        )
        applied += 1
    return applied


# Foreign keys by their id column: reading ``call.queue`` of a loaded call is a query.
_STATE_ATTRS = [getattr(Call._meta.get_field(f), "attname", f) for f in _CALL_FIELDS]
_STATE_ATTRS.remove("updated_at")
_STATE_NAMES = [*(f for f in _CALL_FIELDS if f != "updated_at"), "flags"]


def _state(call: Call) -> tuple[object, ...]:
    return (call.pk, *(getattr(call, f) for f in _STATE_ATTRS), dict(call.flags))


def _write_timeline(
    organization_id: int, timeline: list[tuple[Call, str, datetime, Timeline]]
) -> None:
    """Insert the batch's timeline entries; rewrite the one-per-call entries."""
    entries: dict[str, bulk.TimelineRow] = {}
    for call, dedup, at, entry in timeline:
        key = entry.dedup_key or dedup
        entries[key] = (
            organization_id,
            call.pk,
            entry.type,
            entry.occurred_at or at,
            entry.agent.pk if entry.agent is not None else None,
            entry.details,
            key,
            bool(entry.dedup_key),
        )
    bulk.timeline_insert(entries.values())


def _save_calls(calls: list[Call]) -> None:
    now = timezone.now()
    new = [c for c in calls if c.pk is None]
    old = [c for c in calls if c.pk is not None]
    for call in old:
        call.updated_at = now  # bulk_update does not run auto_now
    bulk.calls_insert(new)
    bulk.calls_update(old, _CALL_FIELDS)
