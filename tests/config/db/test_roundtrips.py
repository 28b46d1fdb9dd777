"""config.db.roundtrips: reads together and writes held ahead of them give what the
same statements one by one give, in fewer round trips (counted off the wire)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from config.db import roundtrips
from contactcenter.models import Agent, Call, CallQueue
from tests.conftest import Floor
from tests.factories import make_call, make_queue
from tests.roundtrip_count import round_trips

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="elsewhere each statement runs alone"
)
prepared = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS,
    reason="statements are prepared on PostgreSQL unless DATABASE_PREPARED_STATEMENTS is off",
)


def _call(floor: Floor, talk: int = 0, started_at: datetime | None = None) -> Call:
    call = make_call(floor.org, agent=floor.agent, started_at=started_at)
    Call.objects.filter(pk=call.pk).update(talk_seconds=talk)
    return call


def _reads(floor: Floor) -> list[Any]:
    org = floor.org.pk
    return [
        Agent.objects.for_organization(org).order_by("-pk"),
        Agent.objects.for_organization(org).filter(pk__in=[]),  # nothing to ask
        None,
        CallQueue.objects.for_organization(org).values_list("pk", "pbx_queue_name"),
        Call.objects.for_organization(org)
        .annotate(twice=F("talk_seconds") * 2)
        .order_by(F("started_at").desc()),
        Call.objects.for_organization(org).values_list("started_at", flat=True).order_by("pk"),
        ("SELECT %s::int, %s::text", [7, "it's; 50% off"]),
        Agent.objects.for_organization(org).select_related("user__membership").order_by("pk"),
        Call.objects.for_organization(org).values("status").annotate(n=Count("id")),
    ]


def test_reads_together_give_what_each_read_gives(
    floor_a: Floor, django_assert_num_queries: Any
) -> None:
    make_queue(floor_a.org, "support")
    started = datetime(2026, 5, 1, 9, tzinfo=UTC)
    for talk in (10, 20):
        _call(floor_a, talk, started)
    reads = _reads(floor_a)
    reads.pop()  # a values() queryset (dicts) is not one read_together takes
    with round_trips() as wire:
        together = roundtrips.read_together(*reads)
    alone = [roundtrips._read_alone(read) for read in reads]
    assert together == alone
    agents, nothing, none, queues, calls, times, raw, with_users = together
    assert [a.pk for a in agents] == sorted((a.pk for a in agents), reverse=True)
    assert nothing == none == []
    assert queues and isinstance(queues[0], tuple)
    assert sorted(c.twice for c in calls) == [20, 40]  # annotations land on the instances
    assert times[0] == started and times[0].tzinfo is not None  # converters applied
    assert raw == [(7, "it's; 50% off")]  # bound client-side: no placeholder read in it
    with django_assert_num_queries(0):  # the related rows came with them
        assert {a.user.membership.role for a in with_users if a.user} == {"agent"}
    if connection.vendor == "postgresql":
        assert wire.count == 1
        assert all(isinstance(c, Call) and c.pk for c in calls)


@on_postgres
def test_a_read_it_cannot_build_is_refused_before_anything_is_sent(floor_a: Floor) -> None:
    for read in (
        Agent.objects.prefetch_related("queue_memberships"),
        _reads(floor_a)[-1],
    ):
        with round_trips() as wire, pytest.raises(TypeError):
            roundtrips.read_together(Agent.objects.all(), read)
        assert wire.count == 0


@on_postgres
def test_held_writes_go_ahead_of_the_reads_in_their_round_trip(floor_a: Floor) -> None:
    call = _call(floor_a, 5)
    table = Call._meta.db_table
    with transaction.atomic(), round_trips() as wire, roundtrips.together():
        roundtrips.write(f"UPDATE {table} SET talk_seconds = %s WHERE id = %s", [42, call.pk])
        (seen,) = roundtrips.read_together(Call.objects.filter(pk=call.pk))
        roundtrips.write(f"UPDATE {table} SET talk_seconds = %s WHERE id = %s", [43, call.pk])
        # A plain ORM read takes the held write along too, and leaves the cursor on its
        # own result (rows, row count).
        updated = Call.objects.filter(pk=call.pk, talk_seconds=43).update(notes="seen")
    assert seen[0].talk_seconds == 42
    assert updated == 1
    # The write with the read, the write with the update.
    assert wire.count == 2, wire.statements
    assert [s.count(";\n") for s in wire.statements] == [1, 1]


@on_postgres
def test_a_failing_held_write_fails_the_read_it_went_with(floor_a: Floor) -> None:
    call = _call(floor_a)
    table = Call._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), roundtrips.together():
        roundtrips.write(f"UPDATE {table} SET organization_id = NULL WHERE id = %s", [call.pk])
        roundtrips.read_together(Call.objects.filter(pk=call.pk))
    call.refresh_from_db()
    assert call.organization_id == floor_a.org.pk


@prepared
def test_held_writes_are_prepared_once_per_connection(floor_a: Floor) -> None:
    call = _call(floor_a, 5)
    table = Call._meta.db_table
    # Named values, one of them twice: the EXECUTE passes each once, in order.
    sql = (
        f"UPDATE {table} SET talk_seconds = %(talk)s, hold_seconds = %(talk)s, "
        "notes = %(notes)s WHERE id = %(id)s"
    )
    sent = []
    for talk in (6, 7):
        with transaction.atomic(), round_trips() as wire, roundtrips.together():
            roundtrips.write(sql, {"notes": f"{talk}%", "id": call.pk, "talk": talk})
        assert wire.count == 1
        sent += wire.sent
        call.refresh_from_db()
        assert (call.talk_seconds, call.hold_seconds, call.notes) == (talk, talk, f"{talk}%")
    first, second = sent
    # (After a failed round trip on this connection, DEALLOCATE ALL goes first.)
    prepare, execute = [s for s in first.split(";\n") if s != "DEALLOCATE ALL"]
    assert prepare.startswith("PREPARE cc_write_") and "hold_seconds = $1, notes = $2" in prepare
    name = prepare.split()[1]
    assert execute == f"EXECUTE {name}(6, '6%', {call.pk})"
    assert second == f"EXECUTE {name}(7, '7%', {call.pk})"


@prepared
def test_after_a_failed_held_write_that_prepared_the_next_starts_afresh(floor_a: Floor) -> None:
    call = _call(floor_a)
    table = Call._meta.db_table
    sql = f"UPDATE {table} SET organization_id = %s, flags = %s WHERE id = %s"
    with pytest.raises(IntegrityError), transaction.atomic(), roundtrips.together():
        roundtrips.write(sql, [None, "{}", call.pk])
    with transaction.atomic(), round_trips() as wire, roundtrips.together():
        roundtrips.write(sql, [floor_a.org.pk, '{"seen": 1}', call.pk])
    deallocate, prepare, _ = wire.sent[0].split(";\n")
    assert deallocate == "DEALLOCATE ALL" and prepare.startswith("PREPARE cc_write_")
    call.refresh_from_db()
    assert call.flags == {"seen": 1}


def test_outside_together_writes_run_at_once(floor_a: Floor) -> None:
    call = _call(floor_a, 5)
    table = Call._meta.db_table
    roundtrips.write(f"UPDATE {table} SET talk_seconds = %s WHERE id = %s", [9, call.pk])
    call.refresh_from_db()
    assert call.talk_seconds == 9


# -- shapes: built once, bound again ----------------------------------------------------------


def _calls_of(org: int, ids: Any, since: datetime, numbers: Any) -> Any:
    return (
        Call.objects.for_organization(org)
        .filter(pk__any=ids, started_at__gte=since)
        .exclude(caller_number__any=numbers)
        .annotate(twice=F("talk_seconds") * 2)
        .select_related("organization")
        .order_by("pk")
    )


def test_a_shape_gives_what_a_fresh_build_gives_whatever_the_values(
    floor_a: Floor, floor_b: Floor
) -> None:
    started = datetime(2026, 5, 1, 9, tzinfo=UTC)
    calls = [_call(floor_a, talk, started) for talk in (10, 20, 30)]
    other = _call(floor_b, 40, started)
    shape = roundtrips.Shape(_calls_of)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    cases: list[tuple[int, Any, datetime, Any]] = [
        (floor_a.org.pk, [c.pk for c in calls], since, []),
        (floor_a.org.pk, {calls[0].pk, other.pk}, since, ()),  # another org's call: not it
        (floor_a.org.pk, frozenset(), since, []),  # nothing: no rows, no error
        (floor_a.org.pk, [c.pk for c in calls], datetime(2027, 1, 1, tzinfo=UTC), []),
        (floor_b.org.pk, [other.pk], since, [calls[0].caller_number]),
        (floor_a.org.pk, [c.pk for c in calls], since, {calls[1].caller_number, "x" * 200}),
    ]
    for args in cases:
        fresh = list(_calls_of(*args))
        shaped = shape.rows(*args)
        assert [(c.pk, c.twice, c.organization.name) for c in shaped] == [
            (c.pk, c.twice, c.organization.name) for c in fresh
        ], args
    assert [c.pk for c in shape.rows(*cases[0])] == [c.pk for c in calls]
    assert shape.rows(*cases[2]) == []


def _ids_shape() -> roundtrips.Shape:
    return roundtrips.Shape(
        lambda org, ids: (
            Call.objects.for_organization(org).filter(pk__any=ids).values_list("pk", flat=True)
        )
    )


@prepared
def test_a_shape_is_prepared_once_per_connection_whatever_the_number_of_values(
    floor_a: Floor,
) -> None:
    calls = [_call(floor_a) for _ in range(3)]
    shape = _ids_shape()
    sent = []
    for n in (1, 3, 2):
        with round_trips() as wire:
            assert sorted(shape.rows(floor_a.org.pk, [c.pk for c in calls[:n]])) == sorted(
                c.pk for c in calls[:n]
            )
        assert wire.count == 1
        sent += wire.sent
    # Prepared in the first round trip, with it; then only executed with the values.
    first, *later = sent
    # (After a failed round trip on this connection, DEALLOCATE ALL goes first.)
    prepare, execute = [s for s in first.split(";\n") if s != "DEALLOCATE ALL"]
    assert prepare.startswith(f"PREPARE {shape.name} AS SELECT") and "ANY($2" in prepare
    assert execute.startswith(f"EXECUTE {shape.name}(")
    assert [text.split("(")[0] for text in later] == [f"EXECUTE {shape.name}"] * 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [shape.name],
        )
        assert cursor.fetchone() == (3, 0)


@prepared
def test_a_new_connection_prepares_again(floor_a: Floor) -> None:
    call = _call(floor_a)
    shape = _ids_shape()
    assert shape.rows(floor_a.org.pk, [call.pk]) == [call.pk]
    sent: list[str] = []

    def elsewhere() -> None:  # another thread: a connection of its own
        try:
            with round_trips() as wire:
                assert shape.rows(floor_a.org.pk, [call.pk]) == []  # not committed
            sent.extend(wire.sent)
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert sent[0].startswith(f"PREPARE {shape.name} AS")
    with round_trips() as wire:
        assert shape.rows(floor_a.org.pk, [call.pk]) == [call.pk]
    assert wire.sent[0].startswith(f"EXECUTE {shape.name}(")


@prepared
def test_after_a_failed_round_trip_that_prepared_the_next_starts_afresh(floor_a: Floor) -> None:
    call = _call(floor_a)
    shape = _ids_shape()
    # The read is prepared (PREPARE outlives the transaction it ran in), the statement
    # after it fails: which of the trip's statements were prepared is not known.
    with pytest.raises(IntegrityError), transaction.atomic():
        roundtrips.read_together(
            shape(floor_a.org.pk, [call.pk]),
            ("INSERT INTO contactcenter_call (id) VALUES (%s)", [call.pk]),
        )
    with round_trips() as wire:
        assert shape.rows(floor_a.org.pk, [call.pk]) == [call.pk]
    deallocate, prepare, execute = wire.sent[0].split(";\n")
    assert deallocate == "DEALLOCATE ALL" and prepare.startswith(f"PREPARE {shape.name} AS")
    assert execute.startswith(f"EXECUTE {shape.name}(")
    with round_trips() as wire:
        assert shape.rows(floor_a.org.pk, [call.pk]) == [call.pk]
    assert wire.sent[0].startswith(f"EXECUTE {shape.name}(")


def _unprepared_shape() -> roundtrips.Shape:
    return roundtrips.Shape(
        lambda org, ids: (
            Call.objects.for_organization(org).filter(pk__any=ids).values_list("pk", flat=True)
        ),
        prepared=False,
    )


@on_postgres
@pytest.mark.parametrize("shape_of", [_ids_shape, _unprepared_shape])
def test_prepared_reads_can_be_turned_off(
    floor_a: Floor, settings: Any, shape_of: Callable[[], roundtrips.Shape]
) -> None:
    """For all shapes (DATABASE_PREPARED_STATEMENTS), or for one (``prepared=False``)."""
    if shape_of is _ids_shape:
        settings.DATABASE_PREPARED_STATEMENTS = False
    call = _call(floor_a)
    shape = shape_of()
    texts = set()
    for ids in ([call.pk], [call.pk, -1, -2]):
        with round_trips() as wire:
            assert shape.rows(floor_a.org.pk, ids) == [call.pk]
        assert wire.count == 1
        # Values bound client-side into the text: the statement differs only in them.
        texts.add(wire.sent[0].split("ANY(")[0])
    (text,) = texts
    assert text.startswith("SELECT")


@on_postgres
def test_a_shape_that_looks_at_its_values_fails_loudly(floor_a: Floor) -> None:
    def peeks(org: int, ids: Any) -> Any:
        rows = Call.objects.for_organization(org)
        return rows.filter(pk__any=ids) if ids else rows.none()

    def derives(org: int, now: datetime) -> Any:
        return Call.objects.for_organization(org).filter(started_at__gte=now - timedelta(hours=1))

    def expands(org: int, ids: Any) -> Any:
        return Call.objects.for_organization(org).filter(pk__in=ids)

    def unused(org: int, ids: Any) -> Any:
        return Call.objects.for_organization(org)

    for build, args in (
        (peeks, (floor_a.org.pk, [])),
        (derives, (floor_a.org.pk, timezone.now())),
        (expands, (floor_a.org.pk, [1, 2])),
        (unused, (floor_a.org.pk, [1])),
    ):
        with pytest.raises(TypeError, match="Shape"):
            roundtrips.Shape(build).rows(*args)
    with pytest.raises(TypeError, match="placeholder"):
        roundtrips.Shape(expands).rows(None, [1])


def test_any_is_in(floor_a: Floor) -> None:
    calls = [_call(floor_a) for _ in range(3)]
    ids = [calls[0].pk, calls[2].pk, -5]
    assert sorted(Call.objects.filter(pk__any=ids).values_list("pk", flat=True)) == sorted(
        Call.objects.filter(pk__in=ids).values_list("pk", flat=True)
    )
    assert list(Call.objects.filter(pk__any=[])) == []
    assert Call.objects.filter(organization_id__any={floor_a.org.pk}).count() == 3
    with pytest.raises(TypeError, match="list"):
        list(Call.objects.filter(caller_number__any="+3225550100"))
