"""A batch's merges (``CallMerged``): the parts' timelines and transfers move to the
call each became part of, and the parts go."""

from __future__ import annotations

import re
from contextlib import nullcontext

import pytest
from django.db import connection

from contactcenter import facts as te
from contactcenter.enums import CallDirection, TransferKind
from contactcenter.models import Call, CallEvent, CallTransfer
from contactcenter.services.telephony import telephony_apply
from tests.conftest import Floor
from tests.contactcenter.telephony_calls import at
from tests.roundtrip_count import round_trips

pytestmark = pytest.mark.django_db

# The statements that change the merges' two tables (Django quotes its table names).
_CHANGES = re.compile(
    r'(UPDATE|DELETE FROM|INSERT INTO) "?(contactcenter_callevent|contactcenter_calltransfer)\b'
)


_CREATED = {"to": "", "from": "", "direction": "inbound"}
_TRANSFERRED = {
    "to": "1002",
    "from": "",
    "kind": "attended",
    "result": "",
    "to_agent": "",
    "joined_call": "",
}


def _started(key: str, seconds: float) -> te.CallStarted:
    return te.CallStarted(
        call_key=key, at=at(seconds), dedup_key=f"{key}-s", direction=CallDirection.INBOUND
    )


def _transferred(key: str, seconds: float) -> te.CallTransferred:
    return te.CallTransferred(
        call_key=key,
        at=at(seconds),
        dedup_key=f"{key}-t",
        transfer_key=f"{key}-x",
        kind=TransferKind.ATTENDED,
        to_number="1002",
    )


def _merged(key: str, into: str, seconds: float) -> te.CallMerged:
    return te.CallMerged(call_key=key, into_key=into, at=at(seconds), dedup_key=f"{key}-m")


def _held(key: str, seconds: float) -> te.CallHeld:
    return te.CallHeld(call_key=key, at=at(seconds), dedup_key=f"{key}-h")


def _timeline(organization_id: int) -> list[tuple[object, ...]]:
    """The organization's timeline entries, field by field."""
    return list(
        CallEvent.objects.filter(organization_id=organization_id)
        .order_by("dedup_key")
        .values_list("call__external_id", "dedup_key", "type", "occurred_at", "agent", "details")
    )


def _changes(statements: list[str]) -> dict[str, int]:
    """How many statements changed each of the merges' tables, by kind of change."""
    found: dict[str, int] = {}
    for text in statements:
        for statement in text.split(";\n"):
            # Each kind of change a statement makes (its CTEs' too) counts once.
            for change, table in set(_CHANGES.findall(statement)):
                name = f"{change.split()[0]} {table}"
                found[name] = found.get(name, 0) + 1
    return found


def _stored(floor: Floor, keys: str) -> None:
    events: list[te.Fact] = [_started(key, i) for i, key in enumerate(keys)]
    telephony_apply(organization_id=floor.org.pk, connection_key="c", events=events)


def test_a_batch_of_merges_moves_timelines_and_transfers_along_chains(
    floor_a: Floor, floor_b: Floor
) -> None:
    org = floor_a.org.pk
    _stored(floor_a, "ABCE")
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[_transferred("A", 10), _transferred("B", 11), _held("A", 12)],
    )
    # Another organization's calls of the same keys are none of the batch's business.
    _stored(floor_b, "AB")
    theirs = _timeline(floor_b.org.pk)
    pks = dict(Call.objects.filter(organization_id=org).values_list("external_id", "pk"))

    postgres = connection.vendor == "postgresql"
    with round_trips() if postgres else nullcontext() as wire:
        result = telephony_apply(
            organization_id=org,
            connection_key="c",
            events=[
                _started("D", 20),  # a part the batch itself creates
                te.CallHeld(call_key="A", at=at(21), dedup_key="A-h2"),  # written, then moved
                _merged("A", "B", 30),
                _merged("B", "C", 31),  # a chain: A's entries, moved to B, go on to C
                _merged("D", "E", 32),
                _merged("C", "A", 33),  # into a call merged away: left as it is
                _merged("Z", "E", 34),  # no such call
            ],
        )

    calls = Call.objects.filter(organization_id=org).order_by("external_id")
    assert [c.external_id for c in calls] == ["C", "E"]
    assert not result.call_ids & {pks["A"], pks["B"]}
    # A part's "created" entry goes; B's entry about A went with B, as the whole it names.
    assert _timeline(org) == [
        ("C", "A-h", "call.held", at(12), None, {"by": ""}),
        ("C", "A-h2", "call.held", at(21), None, {"by": ""}),
        ("C", "A-t", "transfer.completed", at(10), None, _TRANSFERRED),
        ("C", "B-m", "leg.added", at(31), None, {"merged_call": "B"}),
        ("C", "B-t", "transfer.completed", at(11), None, _TRANSFERRED),
        ("E", "D-m", "leg.added", at(32), None, {"merged_call": "D"}),
        ("C", "asterisk:C:created", "call.created", at(2), None, _CREATED),
        ("E", "asterisk:E:created", "call.created", at(3), None, _CREATED),
    ]
    transfers = CallTransfer.objects.filter(organization_id=org).order_by("dedup_key")
    assert [(t.dedup_key, t.call.external_id) for t in transfers] == [("A-x", "C"), ("B-x", "C")]
    assert _timeline(floor_b.org.pk) == theirs
    assert Call.objects.filter(organization_id=floor_b.org.pk).count() == 2
    if wire is not None:
        # One statement per change for all the batch's merges, not one per merge; the
        # cascade of the parts' delete (Django's) empties what is left on them.
        assert _changes(wire.statements) == {
            "INSERT contactcenter_callevent": 2,  # the batch's timeline, the merges' entries
            "DELETE contactcenter_callevent": 2,  # the parts' "created" entries; the cascade
            "UPDATE contactcenter_callevent": 1,
            "UPDATE contactcenter_calltransfer": 1,
            "DELETE contactcenter_calltransfer": 1,  # the cascade
        }, wire.statements


def test_the_call_a_merge_went_into_is_published_even_if_nothing_else_touched_it(
    floor_a: Floor,
) -> None:
    org = floor_a.org.pk
    _stored(floor_a, "AB")
    pks = dict(Call.objects.filter(organization_id=org).values_list("external_id", "pk"))
    # The batch holds the merge alone: B's timeline changes, and its consoles must see it.
    result = telephony_apply(organization_id=org, connection_key="c", events=[_merged("A", "B", 9)])
    assert result.call_ids == {pks["B"]}
    assert list(Call.objects.filter(organization_id=org).values_list("external_id", flat=True)) == [
        "B"
    ]
