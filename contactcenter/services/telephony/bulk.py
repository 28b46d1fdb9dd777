"""The bulk statements of telephony_apply, fast on PostgreSQL, plain ORM elsewhere.

Under load the bridge writes a few hundred calls and a few thousand timeline entries a
second. Built as ORM objects and statements, the Python work of compiling and quoting
them (client-side binding quotes every value in Python) cost more than everything
else the bridge does. On PostgreSQL the rows go instead through ``COPY`` into a
per-session temporary table (emptied at each commit) and one set-based statement
moves them to their table: one round trip and no per-row Python beyond the tuple.
The semantics are the ORM path's: timeline entries already stored are left alone
(or rewritten, for the one-per-call entries), calls are updated in place.
A small batch (up to ``SMALL_BATCH`` rows: the bridge's usual case below full load)
skips the temporary table: one statement takes the rows as one JSON parameter (``rows``:
an array of arrays, unpacked and cast by the server), one round trip instead of three;
COPY stays for the big ones. JSON, not typed arrays: Django's psycopg cursor binds
client-side, and psycopg quotes a text array element by element in Python (about 8x the
cost of ``json.dumps`` and one string's quoting, measured on a timeline batch). SQLite
(the embedded default) keeps the ORM path. The SQL below is assembled from model
metadata (table and column names) only, never from event data (hence the noqa).
Inside ``roundtrips.together`` (telephony_apply), the writes that return nothing are held and
sent ahead of the batch's next read, in its round trip.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from config.db import roundtrips
from contactcenter.models import AgentStateLog, Call, CallEvent

# One unit separator between keys: a dedup key is built from AMI ids, times and names.
_SEPARATOR = "\x1f"
SMALL_BATCH = 200  # rows up to which arrays (one round trip) beat COPY (three)

TimelineRow = tuple[int, int, str, datetime, int | None, dict[str, Any], str, bool]
"""(organization_id, call_id, type, occurred_at, agent_id, details, dedup_key, restated)"""

_TIMELINE_COLUMNS = (
    "organization_id",
    "call_id",
    "type",
    "occurred_at",
    "agent_id",
    "details",
    "dedup_key",
    "created_at",
)


def _concrete(name: str) -> models.Field[Any, Any]:
    field = Call._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _temp_table(cursor: Any, name: str, select: str) -> None:
    """The session's temporary table ``name`` like ``select``, rows emptied at each commit.
    Asked for on every use: a table created in a transaction that rolled back is gone,
    and a connection cannot tell (noting it as created on commit was tried, and broke
    under tests that run on-commit callbacks before rolling back)."""
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS {select} WITH NO DATA"
    )


def _json_value(value: Any) -> Any:
    """A column value JSON cannot carry as is, in the text its column type reads."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()} seconds"
    raise TypeError(f"no JSON form for a column value of type {type(value).__name__}")


def json_rows(types: Sequence[str], values: Iterable[Sequence[Any]]) -> tuple[str, str]:
    """Rows as one parameter: ``(select list, JSON text)``. The select list reads a row
    ``e`` of ``jsonb_array_elements(%s::jsonb) AS e`` as columns ``c0, c1...`` of
    ``types`` (``jsonb`` stays JSON; a JSON null is SQL NULL). Values are column values
    (a JSON column's value is its Python object)."""
    select = ", ".join(
        f"NULLIF(e->{i}, 'null') AS c{i}" if t == "jsonb" else f"(e->>{i})::{t} AS c{i}"
        for i, t in enumerate(types)
    )
    return select, json.dumps([list(v) for v in values], default=_json_value)


def _types(fields: Sequence[models.Field[Any, Any]]) -> list[str]:
    return [str(f.db_type(connection)) for f in fields]


def stored_dedup_keys(organization_id: int, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are already in the organization's call timelines."""
    (rows,) = roundtrips.read_together(stored_dedup_keys_read(organization_id, keys))
    return {key for (key,) in rows}


def stored_dedup_keys_read(organization_id: int, keys: Sequence[str]) -> roundtrips.Read:
    """The read behind ``stored_dedup_keys`` (rows of one key each), for
    ``roundtrips.read_together``."""
    if not keys:
        return None
    if _postgres() and not any(_SEPARATOR in key for key in keys):
        # One text parameter split by the server: no per-key quoting in Python.
        return (
            "SELECT dedup_key FROM contactcenter_callevent WHERE organization_id = %s "
            "AND dedup_key = ANY(string_to_array(%s, %s))",
            [organization_id, _SEPARATOR.join(keys), _SEPARATOR],
        )
    return (
        CallEvent.objects.for_organization(organization_id)
        .filter(dedup_key__in=list(keys))
        .values_list("dedup_key")
    )


def timeline_insert(rows: Iterable[TimelineRow]) -> None:
    """Insert timeline entries: new keys are added, a key already there is kept, except
    ``restated`` entries (one per call, e.g. "created"), whose time, details and agent
    are rewritten."""
    rows = list(rows)
    if not rows:
        return
    if not _postgres():
        _timeline_orm(rows)
        return
    now = timezone.now()
    columns = ", ".join(_TIMELINE_COLUMNS)
    if len(rows) <= SMALL_BATCH:
        _timeline_arrays(rows, now)
        return
    # In a transaction of its own when called outside one: the rows of a temporary table
    # ON COMMIT DELETE ROWS would not outlive the COPY's autocommit.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _temp_table(
            cursor,
            "_cc_timeline_in",
            f"SELECT {columns}, false AS restated FROM contactcenter_callevent",  # noqa: S608
        )
        with cursor.cursor.copy(f"COPY _cc_timeline_in ({columns}, restated) FROM STDIN") as copy:
            for org, call, type_, at, agent, details, key, restated in rows:
                copy.write_row(
                    (org, call, type_, at, agent, json.dumps(details), key, now, restated)
                )
        # Three statements, one round trip; emptied in case of a second call before the
        # commit.
        cursor.execute(
            f"INSERT INTO contactcenter_callevent ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM _cc_timeline_in WHERE NOT restated "
            "ON CONFLICT (organization_id, dedup_key) DO NOTHING; "
            f"INSERT INTO contactcenter_callevent ({columns}) "
            f"SELECT {columns} FROM _cc_timeline_in WHERE restated "
            "ON CONFLICT (organization_id, dedup_key) DO UPDATE SET "
            "occurred_at = EXCLUDED.occurred_at, details = EXCLUDED.details, "
            "agent_id = EXCLUDED.agent_id; "
            "DELETE FROM _cc_timeline_in"
        )


def _timeline_arrays(rows: list[TimelineRow], now: datetime) -> None:
    columns = ", ".join(_TIMELINE_COLUMNS)
    select, payload = json_rows(
        ("bigint", "bigint", "text", "timestamptz", "bigint", "jsonb", "text", "boolean"),
        rows,
    )
    chosen = "SELECT c0, c1, c2, c3, c4, c5, c6, %(now)s FROM entries"
    sql = (
        f"WITH entries AS (SELECT {select} FROM jsonb_array_elements(%(rows)s::jsonb) AS e), "  # noqa: S608 - column names
        f"kept AS (INSERT INTO contactcenter_callevent ({columns}) {chosen} "
        "WHERE NOT c7 ON CONFLICT (organization_id, dedup_key) DO NOTHING) "
        f"INSERT INTO contactcenter_callevent ({columns}) {chosen} WHERE c7 "
        "ON CONFLICT (organization_id, dedup_key) DO UPDATE SET "
        "occurred_at = EXCLUDED.occurred_at, details = EXCLUDED.details, "
        "agent_id = EXCLUDED.agent_id"
    )
    roundtrips.write(sql, {"rows": payload, "now": now})


def _timeline_orm(rows: list[TimelineRow]) -> None:
    def entry(row: TimelineRow) -> CallEvent:
        org, call, type_, at, agent, details, key, _restated = row
        return CallEvent(
            organization_id=org,
            call_id=call,
            type=type_,
            occurred_at=at,
            agent_id=agent,
            details=details,
            dedup_key=key,
        )

    CallEvent.objects.bulk_create([entry(r) for r in rows if not r[7]], ignore_conflicts=True)
    restated = [entry(r) for r in rows if r[7]]
    if restated:
        CallEvent.objects.bulk_create(
            restated,
            update_conflicts=True,
            unique_fields=["organization", "dedup_key"],
            update_fields=["occurred_at", "details", "agent"],
        )


def calls_update(calls: Sequence[Call], fields: Sequence[str]) -> None:
    """Write ``fields`` of calls that are already stored (they have a pk)."""
    if not calls:
        return
    if not _postgres():
        Call.objects.bulk_update(calls, fields)
        return
    if len(calls) <= SMALL_BATCH:
        rows_update(Call, calls, fields)
        return
    model_fields = [_concrete(name) for name in fields]
    columns = [f.column for f in model_fields]
    attnames = [f.attname for f in model_fields]
    json_columns = {f.attname for f in model_fields if f.get_internal_type() == "JSONField"}
    listed = ", ".join(columns)
    # One temporary table per column set, so callers with other fields do not clash.
    table = f"_cc_call_in_{zlib.crc32(listed.encode()):08x}"
    # In a transaction of its own when called outside one: the rows of a temporary table
    # ON COMMIT DELETE ROWS would not outlive the COPY's autocommit.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _temp_table(cursor, table, f"SELECT id, {listed} FROM contactcenter_call")  # noqa: S608
        with cursor.cursor.copy(f"COPY {table} (id, {listed}) FROM STDIN") as copy:
            for call in calls:
                values: list[Any] = [call.pk]
                for name in attnames:
                    value = getattr(call, name)
                    values.append(json.dumps(value) if name in json_columns else value)
                copy.write_row(values)
        assignments = ", ".join(f"{c} = t.{c}" for c in columns)
        cursor.execute(  # one round trip; emptied in case of a second call before the commit
            f"UPDATE contactcenter_call AS c SET {assignments} FROM {table} AS t "  # noqa: S608
            f"WHERE c.id = t.id; DELETE FROM {table}"
        )


def rows_update(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]
) -> None:
    """Write ``fields`` of stored rows (bulk_update's effect). On PostgreSQL one statement
    joins the table to the new values as typed arrays, instead of a CASE per field and
    row that Django compiles in Python."""
    if not objs:
        return
    if not _postgres():
        model._default_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    assert all(isinstance(f, models.Field) for f in concrete)
    columns = [f.column for f in concrete]  # type: ignore[union-attr]
    types = [str(f.db_type(connection)) for f in concrete]  # type: ignore[union-attr]
    pk = meta.pk
    assert pk is not None
    pk_type = pk.rel_db_type(connection)  # type: ignore[attr-defined]  # (bigint for an auto pk)
    attnames = [f.attname for f in concrete]  # type: ignore[union-attr]
    select, payload = json_rows(
        [str(pk_type), *types], ([o.pk, *(getattr(o, a) for a in attnames)] for o in objs)
    )
    assignments = ", ".join(f"{c} = v.c{i}" for i, c in enumerate(columns, start=1))
    table = meta.db_table
    roundtrips.write(
        f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - names from model metadata
        f"FROM (SELECT {select} FROM jsonb_array_elements(%s::jsonb) AS e) AS v "
        f"WHERE t.{pk.column} = v.c0",
        [payload],
    )


def open_intervals_end(ends: dict[int, datetime]) -> None:
    """End each agent's open state interval at the time given for them (agent id -> at)."""
    if not ends:
        return
    if not _postgres():
        for agent_id, at in ends.items():
            AgentStateLog.objects.filter(agent_id=agent_id, ended_at__isnull=True).update(
                ended_at=at
            )
        return
    roundtrips.write(
        "UPDATE contactcenter_agentstatelog AS l SET ended_at = v.at "
        "FROM (SELECT unnest(%s::bigint[]) AS agent_id, unnest(%s::timestamptz[]) AS at) v "
        "WHERE l.agent_id = v.agent_id AND l.ended_at IS NULL",
        [list(ends), list(ends.values())],
    )


def rows_insert(
    model: type[models.Model], objs: Sequence[models.Model], *, held: bool = False
) -> None:
    """Insert rows nobody needs the ids of (no conflicts expected: a violation raises,
    as bulk_create would). ``held``: always the one held statement of arrays, never
    COPY (which is a round trip or more of its own), however many rows."""
    if not objs:
        return
    if not _postgres():
        model._default_manager.bulk_create(objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                field.pre_save(obj, add=True)
    json_columns = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    if held or len(objs) <= SMALL_BATCH:
        select, payload = json_rows(
            _types(fields), ([getattr(o, a) for a in attnames] for o in objs)
        )
        roundtrips.write(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names from model metadata
            f"SELECT {select} FROM jsonb_array_elements(%s::jsonb) AS e",
            [payload],
        )
        return
    roundtrips.send()  # COPY is not an execute: the wrapper does not see it
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row(
                [
                    json.dumps(getattr(obj, a)) if a in json_columns else getattr(obj, a)
                    for a in attnames
                ]
            )


def calls_insert(calls: Sequence[Call]) -> None:
    """Insert new calls and set their pks (bulk_create's effect, without its compile)."""
    if not calls:
        return
    if not _postgres():
        Call.objects.bulk_create(calls)
        return
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    for call in calls:
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                field.pre_save(call, add=True)
    json_columns = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if len(calls) <= SMALL_BATCH:
        select, payload = json_rows(
            _types(fields), ([getattr(c, a) for a in attnames] for c in calls)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO contactcenter_call ({columns}) "  # noqa: S608 - model metadata
                f"SELECT {select} FROM jsonb_array_elements(%s::jsonb) AS e "
                "RETURNING id, organization_id, source, external_id",
                [payload],
            )
            ids = {(org, source, key): pk for pk, org, source, key in cursor.fetchall()}
        _set_ids(calls, ids)
        return
    # In a transaction of its own when called outside one: the rows of a temporary table
    # ON COMMIT DELETE ROWS would not outlive the COPY's autocommit.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _temp_table(cursor, "_cc_new_call_in", f"SELECT {columns} FROM contactcenter_call")  # noqa: S608
        with cursor.cursor.copy(f"COPY _cc_new_call_in ({columns}) FROM STDIN") as copy:
            for call in calls:
                copy.write_row(
                    [
                        json.dumps(getattr(call, a)) if a in json_columns else getattr(call, a)
                        for a in attnames
                    ]
                )
        cursor.execute(  # the table emptied as its rows move, for a second call before the commit
            f"WITH moved AS (DELETE FROM _cc_new_call_in RETURNING {columns}) "  # noqa: S608
            f"INSERT INTO contactcenter_call ({columns}) SELECT {columns} FROM moved "
            "RETURNING id, organization_id, source, external_id"
        )
        ids = {(org, source, key): pk for pk, org, source, key in cursor.fetchall()}
    _set_ids(calls, ids)


def _set_ids(calls: Sequence[Call], ids: dict[tuple[int, str, str], int]) -> None:
    for call in calls:
        call.pk = ids[(call.organization_id, call.source, call.external_id)]
        call._state.adding = False
        call._state.db = connection.alias
