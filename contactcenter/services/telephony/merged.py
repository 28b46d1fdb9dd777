"""Calls a batch merges into others (``CallMerged``: an attended transfer's consultation
joining the customer's call, a channel moving to an older Linkedid).

Each part's timeline and transfers move to the call it became part of, which gets a
"leg added" entry, and the part is deleted. The batch's merges are resolved first, then
written together: one statement moves the timelines and one the transfers, however many
merges there are (on PostgreSQL joined to the (part, whole) pairs as arrays and held,
``roundtrips.write``, to ride with the batch's next round trip; elsewhere the ORM's
UPDATE with a CASE), one inserts the entries, and Django's delete removes the parts.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Case, Value, When

from config.db import roundtrips
from contactcenter import facts as te
from contactcenter.enums import CallEventType
from contactcenter.models import Call, CallEvent, CallTransfer
from contactcenter.services.telephony import bulk

_MERGED_CALLS = roundtrips.Shape(
    lambda organization_id, sources, call_keys: (
        Call.objects.for_organization(organization_id)
        .filter(source__any=sources, external_id__any=call_keys)
        .order_by()
        .values_list("source", "external_id", "pk")
    )
)

# A part's "created" entry would be a second start of the whole call (the "leg added"
# entry says where the part came from): deleted, the part's other entries moved. One
# statement: the rows the two change are not the same ones, and each sees the table as
# it was.
_TIMELINE_MOVE = (
    "WITH created AS (DELETE FROM contactcenter_callevent WHERE organization_id = %(org)s "
    "AND call_id = ANY(%(parts)s::bigint[]) AND type = %(created)s) "
    "UPDATE contactcenter_callevent AS e SET call_id = m.whole "
    "FROM unnest(%(parts)s::bigint[], %(wholes)s::bigint[]) AS m(part, whole) "
    "WHERE e.organization_id = %(org)s AND e.call_id = m.part AND e.type <> %(created)s"
)
_TRANSFERS_MOVE = (
    "UPDATE contactcenter_calltransfer AS t SET call_id = m.whole "
    "FROM unnest(%(parts)s::bigint[], %(wholes)s::bigint[]) AS m(part, whole) "
    "WHERE t.organization_id = %(org)s AND t.call_id = m.part"
)


def calls_merge(organization_id: int, merges: Sequence[te.CallMerged]) -> dict[int, int]:
    """Fold each merged call's timeline and transfers into the call it became part of;
    the id of each call merged away (and deleted), mapped to the call it ended in (whose
    timeline changed). Must run after the batch's own timeline is written (its entries on
    a part move too).

    The merges are taken in the batch's order. One is skipped when its part or its
    whole is not stored, when both are the same call, or when either was merged away
    earlier in the batch. A part whose whole is merged later in the batch ends in that
    one's whole (A into B, then B into C: A's and B's entries end on C); the entry of
    the first merge, on B, goes with B.
    """
    if not merges:
        return {}
    keys = {(m.source, key) for m in merges for key in (m.call_key, m.into_key)}
    (rows,) = roundtrips.read_together(
        _MERGED_CALLS(organization_id, list({s for s, _ in keys}), list({k for _, k in keys}))
    )
    pks: dict[tuple[str, str], int] = {(source, key): pk for source, key, pk in rows}
    taken = _taken(pks, merges)
    if not taken:
        return {}
    # Part -> the call it ends in. A whole is only merged after the merges into it (one
    # merged before would have skipped them), so from the last merge back, its own end
    # is already known.
    ends: dict[int, int] = {}
    for part, whole, _ in reversed(taken):
        ends[part] = ends.get(whole, whole)
    _move(organization_id, ends)
    bulk.timeline_insert(
        (
            organization_id,
            whole,
            CallEventType.LEG_ADDED,
            merge.at,
            None,
            {"merged_call": merge.call_key},
            merge.dedup_key,
            False,
        )
        for _, whole, merge in taken
        if whole not in ends
    )
    # Through Django's delete: it follows every relation to a call (cascades, SET NULL).
    Call.objects.for_organization(organization_id).filter(pk__in=list(ends)).delete()
    return ends


def _taken(
    pks: dict[tuple[str, str], int], merges: Sequence[te.CallMerged]
) -> list[tuple[int, int, te.CallMerged]]:
    """The merges that apply, in order, as (part, whole, merge)."""
    taken = []
    removed: set[int] = set()
    for merge in merges:
        part = pks.get((merge.source, merge.call_key))
        whole = pks.get((merge.source, merge.into_key))
        if part is None or whole is None or part == whole or {part, whole} & removed:
            continue
        taken.append((part, whole, merge))
        removed.add(part)
    return taken


def _move(organization_id: int, ends: dict[int, int]) -> None:
    """Move the parts' timelines and transfers to the calls they end in."""
    if connection.vendor != "postgresql":
        whole = Case(*(When(call_id=part, then=Value(end)) for part, end in ends.items()))
        events = CallEvent.objects.for_organization(organization_id).filter(call_id__in=ends)
        events.filter(type=CallEventType.CREATED).delete()
        events.exclude(type=CallEventType.CREATED).update(call_id=whole)
        transfers = CallTransfer.objects.for_organization(organization_id)
        transfers.filter(call_id__in=ends).update(call_id=whole)
        return
    params = {
        "org": organization_id,
        "parts": list(ends),
        "wholes": list(ends.values()),
        "created": CallEventType.CREATED.value,
    }
    roundtrips.write(_TIMELINE_MOVE, params)
    roundtrips.write(_TRANSFERS_MOVE, params)
