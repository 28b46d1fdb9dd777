"""Statements sent together (PostgreSQL): fewer round trips on the hot paths.

Each round trip costs the caller a wait for the database process and then for the
interpreter lock, which on a busy machine is most of a batch's time. Two tools:

- ``together`` (telephony_apply): inside it, ``write`` holds the statements that return
  nothing (contactcenter.services.telephony.bulk: the small batches' array UPDATEs and
  INSERTs). They go out in the order they were made, in the round trip of the next
  statement of any other kind and ahead of it (a read: its rows may depend on them),
  before a COPY (``send``: not an execute, which the wrapper would see) and at the end.
- ``read_together``: reads that do not depend on one another, in one round trip, behind
  the writes held so far.

Statements sent together are one simple query, statements separated by ``;``, bound
client-side as Django's psycopg cursor binds every statement; PostgreSQL runs them in
order and stops at the first error, which is raised as the statement's own would be.
Elsewhere (SQLite, the embedded default) each statement runs at once.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models import query as orm_query
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable

Read = QuerySet[Any] | tuple[str, Sequence[Any]] | None
"""A queryset (of model instances, or ``values_list`` tuples or flat values), a raw
``(sql, params)`` whose rows are tuples, or ``None`` for a read that has nothing to ask."""


class _Held(threading.local):
    statements: list[str] | None = None


_held = _Held()


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Hold this thread's ``write``s until a statement of another kind, or the end.
    PostgreSQL only: elsewhere they run at once. Nested, the outermost block holds them."""
    if connection.vendor != "postgresql" or _held.statements is not None:
        yield
        return
    _held.statements = []
    try:
        with connection.execute_wrapper(_ahead):
            yield
            send()
    finally:
        _held.statements = None


def _taken() -> list[str]:
    """The statements held so far, which the caller now sends."""
    statements = _held.statements
    if not statements:
        return []
    _held.statements = []
    return statements


def _ahead(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """The held statements, then this one, in one round trip; the cursor is left on this
    one's result (its rows, its row count)."""
    statements = _taken()
    if not statements:
        return execute(sql, params, many, context)
    cursor = context["cursor"]
    if many:  # one statement, many parameter sets: it cannot be joined
        _send(statements)
        return execute(sql, params, many, context)
    joined = ";\n".join([*statements, cursor.cursor.mogrify(sql, params)])
    result = execute(joined, None, many, context)
    for _ in statements:
        cursor.nextset()
    return result


def send() -> None:
    """The statements held so far, in one round trip."""
    _send(_taken())


def _send(statements: list[str]) -> None:
    if statements:
        with connection.cursor() as cursor:
            # Bound already: no parameters, so nothing in the text is read as one.
            cursor.execute(";\n".join(statements))


def write(sql: str, params: Any) -> None:
    """Run a statement that returns nothing: at once, or held (``together``)."""
    with connection.cursor() as cursor:
        if _held.statements is None:
            cursor.execute(sql, params)
        else:
            # Client-side binding, as Django's psycopg cursor does for every statement.
            _held.statements.append(cursor.cursor.mogrify(sql, params))


# -- reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: Sequence[Any]
    rows: Callable[[list[tuple[Any, ...]]], list[Any]]


def read_together(*reads: Read) -> list[list[Any]]:
    """Each read's rows, in the order of ``reads``: the reads go out in one round trip
    (behind the writes held so far, inside ``together``), in that order.

    A queryset may not ``prefetch_related`` (a second statement, which depends on the
    first one's rows). Locks (``select_for_update``) are taken in the order of ``reads``.
    """
    if connection.vendor != "postgresql":
        return [_read_alone(read) for read in reads]
    plans = [_plan(read) for read in reads]
    asked = [plan for plan in plans if plan is not None]
    if not asked:
        return [[] for _ in reads]
    statements = _taken()
    with connection.cursor() as cursor:
        texts = [cursor.cursor.mogrify(plan.sql, plan.params) for plan in asked]
        cursor.execute(";\n".join([*statements, *texts]))
        for _ in statements:
            cursor.nextset()
        found: list[list[Any]] = []
        for plan in plans:
            if plan is None:
                found.append([])
                continue
            found.append(plan.rows(cursor.fetchall()))
            cursor.nextset()
    return found


def _read_alone(read: Read) -> list[Any]:
    if read is None:
        return []
    if isinstance(read, tuple):
        with connection.cursor() as cursor:
            cursor.execute(*read)
            return [tuple(row) for row in cursor.fetchall()]
    return list(read)


def _plan(read: Read) -> _Plan | None:
    if read is None:
        return None
    if isinstance(read, tuple):
        sql, params = read
        return _Plan(sql, params, lambda rows: [tuple(row) for row in rows])
    compiler = read.query.get_compiler(using=read.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing to ask the database
        return None
    if not sql:
        return None
    kind = read._iterable_class
    if read._prefetch_related_lookups:  # type: ignore[attr-defined]
        raise TypeError("read_together reads one statement's rows: no prefetch_related")
    if kind is ModelIterable:
        rows = functools.partial(_instances, read, compiler)
    elif kind is ValuesListIterable:
        rows = functools.partial(_converted, compiler, flat=False)
    elif kind is FlatValuesListIterable:
        rows = functools.partial(_converted, compiler, flat=True)
    else:
        raise TypeError(f"read_together cannot read a {kind.__name__} queryset")
    return _Plan(sql, params, rows)


def _converted(compiler: Any, rows: list[tuple[Any, ...]], *, flat: bool) -> list[Any]:
    """The rows as the queryset's own iterable gives them (its converters applied)."""
    if compiler.has_extra_select:  # columns the ordering needed, not the caller
        rows = [row[: compiler.col_count] for row in rows]
    converted = compiler.results_iter([rows], tuple_expected=True)
    return [row[0] for row in converted] if flat else list(converted)


def _instances(queryset: QuerySet[Any], compiler: Any, rows: list[tuple[Any, ...]]) -> list[Any]:
    """Model instances, built as Django's ModelIterable builds them."""
    info = compiler.klass_info
    first, last = info["select_fields"][0], info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in compiler.select[first:last]]
    # select_related's rows, as ModelIterable places them (not in the type stubs).
    populators = orm_query.get_related_populators  # type: ignore[attr-defined]
    related = populators(info, compiler.select, queryset.db)
    annotations = compiler.annotation_col_map
    instances = []
    for row in _converted(compiler, rows, flat=False):
        instance = info["model"].from_db(queryset.db, names, row[first:last])
        for populator in related:
            populator.populate(row, instance)
        for name, at in annotations.items():
            setattr(instance, name, row[at])
        instances.append(instance)
    return instances
