"""The audit entries of one telephony batch, inserted with one statement.

The bridge's batches are the hot path (docs/benchmarks.md): a batch writes its audit
entries together, as one held INSERT of arrays riding with the batch's last writes
(never COPY, whatever the batch's size: no round trip of its own), never one per
event. A batch records one entry per call it created or changed (``create`` /
``update``, with the fields whose values changed: before -> after, personal ones
redacted) and one per agent whose state the PBX moved (``state_change``), not one per
AMI event: the events themselves are the call's timeline (CallEvent), kept with the
call.

The rows are built here as plain column values, not through ``audit.record`` and a
model instance each: that was most of a batch's audit time (the figures: docs/benchmarks.md,
"Figures the code's comments rest on").
They hold the same values ``audit.record`` would write (``audit.json_value``, the same
redaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone

from contactcenter.models import Agent, AuditEntry, Call
from contactcenter.models.audit import ActorKind
from contactcenter.services import audit
from contactcenter.services.telephony import bulk

CALL_TYPE = "contactcenter.call"
AGENT_TYPE = "contactcenter.agent"


@dataclass(slots=True)
class Row:
    """One entry's columns (AuditEntry's attnames), for ``bulk.rows_insert``."""

    organization_id: int
    action: str
    object_type: str
    object_id: str
    changes: dict[str, list[Any]]
    object_label: str = ""
    at: dt.datetime | None = None
    actor_kind: str = ActorKind.PBX
    actor_user_id: int | None = None
    actor_api_key_id: int | None = None
    actor_label: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    client_address: str | None = None


def pbx_actor(connection_key: str) -> audit.Actor:
    """The PBX of ``connection_key``, with the request's id and address when the facts
    came in a request (a Twilio webhook)."""
    return replace(
        audit.current_actor(), kind=ActorKind.PBX, user_id=None, label=connection_key[:200]
    )


def _plain(value: Any) -> Any:
    """``audit.json_value`` for the values a call's fields hold, quicker for the common
    ones (ids, text, times)."""
    if value is None or type(value) in (int, bool):
        return value
    if type(value) is str and len(value) <= 500:
        return value
    if type(value) is dt.datetime:
        return value.isoformat()
    return audit.json_value(value)


def _diff(
    old: Sequence[object] | None,
    new: Sequence[object],
    names: Sequence[str],
    hidden: Sequence[bool],
) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for index, name in enumerate(names, start=1):
        before = None if old is None else old[index]
        after = new[index]
        if before == after or name == "updated_at":
            continue
        if hidden[index - 1]:
            changes[name] = [audit.REDACTED, audit.REDACTED]
        else:
            changes[name] = [_plain(before), _plain(after)]
    return changes


def call_rows(
    organization_id: int,
    calls: Iterable[Call],
    before: dict[int, tuple[object, ...]],
    names: Sequence[str],
    state_of: Callable[[Call], tuple[object, ...]],
    inserted: set[int],
) -> list[Row]:
    """``create`` for a call the batch inserted (``id(call)`` in ``inserted``),
    ``update`` with the changed fields for one it changed. ``before`` holds
    ``state_of(call)`` as loaded (a call loaded by a resync's close is not in it: its
    fields show as from None); ``names`` the field names of its items after the pk."""
    hidden = [audit.is_redacted(CALL_TYPE, name) for name in names]
    rows = []
    for call in calls:
        if call.pk is None:  # merged away before it was stored
            continue
        changes = _diff(before.get(call.pk), state_of(call), names, hidden)
        rows.append(
            Row(
                organization_id=organization_id,
                action="create" if id(call) in inserted else "update",
                object_type=CALL_TYPE,
                object_id=str(call.pk),
                changes=changes,
            )
        )
    return rows


def agent_rows(
    organization_id: int,
    changed: Iterable[tuple[Agent, dict[str, object], dict[str, object]]],
) -> list[Row]:
    return [
        Row(
            organization_id=organization_id,
            action="state_change",
            object_type=AGENT_TYPE,
            object_id=str(agent.pk),
            object_label=agent.name[:200],
            changes=audit.changed(old, new, object_type=AGENT_TYPE),
        )
        for agent, old, new in changed
    ]


def rows_insert(rows: Sequence[Row], *, connection_key: str) -> None:
    """One statement for the batch's entries, held to ride with its other writes."""
    if not rows:
        return
    actor = pbx_actor(connection_key)
    now = timezone.now()
    for row in rows:
        row.at = now
        row.actor_label = actor.label
        row.request_id = actor.request_id[:64]
        row.client_address = actor.client_address
    if connection.vendor != "postgresql":  # the embedded default: no held statements
        fields = [f.attname for f in AuditEntry._meta.concrete_fields if not f.primary_key]
        AuditEntry.objects.bulk_create(
            [AuditEntry(**{name: getattr(row, name) for name in fields}) for row in rows]
        )
        return
    bulk.rows_insert(AuditEntry, cast(Sequence[models.Model], rows), held=True)
