"""The audit entries of one telephony batch, inserted with one statement.

The bridge's batches are the hot path (docs/benchmarks.md): a batch writes its audit
entries together, as one held INSERT of arrays riding with the batch's last writes
(never COPY, whatever the batch's size: no round trip of its own), never one per event. A
batch records one entry per call it created or changed (``create`` / ``update``, with
the fields whose values changed: before -> after, personal ones redacted) and one per
agent whose state the PBX moved (``state_change``), not one per AMI event: the
events themselves are the call's timeline (CallEvent), kept with the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from contactcenter.models import Agent, AuditEntry, Call
from contactcenter.models.audit import ActorKind
from contactcenter.services import audit
from contactcenter.services.telephony import bulk

CALL_TYPE = "contactcenter.call"
AGENT_TYPE = "contactcenter.agent"


def pbx_actor(connection_key: str) -> audit.Actor:
    """The PBX of ``connection_key``, with the request's id and address when the facts
    came in a request (a Twilio webhook)."""
    return replace(
        audit.current_actor(), kind=ActorKind.PBX, user_id=None, label=connection_key[:200]
    )


def call_entries(
    organization_id: int,
    calls: Iterable[Call],
    before: dict[int, tuple[object, ...]],
    names: Sequence[str],
    state_of: object,
    inserted: set[int],
) -> list[audit.Entry]:
    """``create`` for a call the batch inserted (``id(call)`` in ``inserted``),
    ``update`` with the changed fields for one it changed. ``before`` holds
    ``state_of(call)`` as loaded (a call loaded by a resync's close is not in it: its
    fields show as from None); ``names`` the field names of its items after the pk."""
    entries = []
    for call in calls:
        if call.pk is None:  # merged away before it was stored
            continue
        old = before.get(call.pk)
        new = state_of(call)  # type: ignore[operator]
        changes: dict[str, list[object]] = {}
        for index, name in enumerate(names, start=1):
            if old is None or old[index] != new[index]:
                changes[name] = [None if old is None else old[index], new[index]]
        entries.append(
            audit.Entry(
                action="create" if id(call) in inserted else "update",
                organization_id=organization_id,
                object_type=CALL_TYPE,
                object_id=call.pk,
                changes=audit.changed(
                    {n: v[0] for n, v in changes.items()},
                    {n: v[1] for n, v in changes.items()},
                    object_type=CALL_TYPE,
                ),
            )
        )
    return entries


def agent_entries(
    organization_id: int,
    changed: Iterable[tuple[Agent, dict[str, object], dict[str, object]]],
) -> list[audit.Entry]:
    return [
        audit.Entry(
            action="state_change",
            organization_id=organization_id,
            object_type=AGENT_TYPE,
            object_id=agent.pk,
            object_label=agent.name[:200],
            changes=audit.changed(old, new, object_type=AGENT_TYPE),
        )
        for agent, old, new in changed
    ]


def entries_insert(entries: Sequence[audit.Entry], *, connection_key: str) -> None:
    """One statement for the batch's entries, held to ride with its other writes."""
    if entries:
        rows: list[AuditEntry] = audit.rows_for(entries, actor=pbx_actor(connection_key))
        bulk.rows_insert(AuditEntry, rows, held=True)
