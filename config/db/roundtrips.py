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
- ``Shape``: a read the hot paths make again and again, built and compiled by the ORM
  once per process and then only bound to new values (building and compiling a query
  costs more than its round trip).

On PostgreSQL the shapes and the held writes are prepared once per connection and
planned once (``config.db.prepared``).

Statements sent together are one simple query, statements separated by ``;``, bound
client-side as Django's psycopg cursor binds every statement; PostgreSQL runs them in
order and stops at the first error, which is raised as the statement's own would be.
Elsewhere (SQLite, the embedded default) each statement runs at once.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models import query as orm_query
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable

from config.db.prepared import Statement, preparing, written

Read: TypeAlias = "QuerySet[Any] | tuple[str, Sequence[Any]] | Bound | None"
"""A queryset (of model instances, or ``values_list`` tuples or flat values), a raw
``(sql, params)`` whose rows are tuples, a ``Shape``'s read, or ``None`` for a read that
has nothing to ask."""


class _Held(threading.local):
    statements: list[str] | None = None
    executes: dict[str, Statement] | None = None  # the prepared ones among them


_held = _Held()


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Hold this thread's ``write``s until a statement of another kind, or the end.
    PostgreSQL only: elsewhere they run at once. Nested, the outermost block holds them."""
    if connection.vendor != "postgresql" or _held.statements is not None:
        yield
        return
    _held.statements, _held.executes = [], {}
    try:
        with connection.execute_wrapper(_ahead):
            yield
            send()
    finally:
        _held.statements = _held.executes = None


def _taken() -> tuple[list[str], list[Statement]]:
    """The statements held so far, which the caller now sends, and the prepared
    statements they execute."""
    statements, executes = _held.statements, _held.executes
    if not statements:
        return [], []
    _held.statements, _held.executes = [], {}
    return statements, list((executes or {}).values())


def _ahead(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """The held statements, then this one, in one round trip; the cursor is left on this
    one's result (its rows, its row count)."""
    statements, executes = _taken()
    if not statements:
        return execute(sql, params, many, context)
    cursor = context["cursor"]
    if many:  # one statement, many parameter sets: it cannot be joined
        _send(statements, executes)
        return execute(sql, params, many, context)
    with preparing(executes) as prepares:
        ahead = [*prepares, *statements]
        joined = ";\n".join([*ahead, cursor.cursor.mogrify(sql, params)])
        result = execute(joined, None, many, context)
    for _ in ahead:
        cursor.nextset()
    return result


def send() -> None:
    """The statements held so far, in one round trip."""
    _send(*_taken())


def _send(statements: list[str], executes: list[Statement]) -> None:
    if statements:
        with connection.cursor() as cursor, preparing(executes) as prepares:
            # Bound already: no parameters, so nothing in the text is read as one.
            cursor.execute(";\n".join([*prepares, *statements]))


def write(sql: str, params: Any) -> None:
    """Run a statement that returns nothing: at once, or held (``together``)."""
    with connection.cursor() as cursor:
        if _held.statements is None:
            cursor.execute(sql, params)
            return
        # Client-side binding, as Django's psycopg cursor does for every statement.
        statement = written(sql)
        if statement is None:
            _held.statements.append(cursor.cursor.mogrify(sql, params))
            return
        _held.statements.append(cursor.cursor.mogrify(statement.execute, statement.args(params)))
        assert _held.executes is not None
        _held.executes[statement.name] = statement


# -- reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: Sequence[Any]
    rows: Callable[[list[tuple[Any, ...]]], list[Any]]
    prepared: Statement | None = None  # run as this prepared statement


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
    statements, executes = _taken()
    with connection.cursor() as cursor:
        texts = [
            cursor.cursor.mogrify(plan.sql, plan.params)
            if plan.prepared is None
            else cursor.cursor.mogrify(plan.prepared.execute, plan.prepared.args(plan.params))
            for plan in asked
        ]
        executes += [plan.prepared for plan in asked if plan.prepared is not None]
        with preparing(executes) as prepares:
            ahead = [*prepares, *statements]
            cursor.execute(";\n".join([*ahead, *texts]))
        for _ in ahead:
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
    if isinstance(read, Bound):  # made on PostgreSQL, read elsewhere: built afresh
        return list(read.shape.build(*read.args))
    return list(read)


def _plan(read: Read) -> _Plan | None:
    if read is None:
        return None
    if isinstance(read, Bound):
        template = read.shape.template(read.args)
        prepared = read.shape.prepared and settings.DATABASE_PREPARED_STATEMENTS
        statement = template.statement if prepared else None
        return _Plan(template.sql, template.bind(read.args), template.rows, statement)
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


# -- shapes: reads built once ---------------------------------------------------------------


class Shape:
    """A read built and compiled by the ORM once per process, then bound to new values.

    ``build(*args)`` makes the queryset. Each argument must reach the statement as a
    parameter of its own, unchanged: an int, a string or an aware datetime compared with
    a column (``organization_id=org``, ``ended_at__gte=since``), or a list, set or tuple
    through ``field__any`` (one array parameter, however long). ``build`` runs once, with
    placeholders for the arguments: it must not look at their values (no ``if not ids``,
    no ``now - window`` inside: pass ``since``). The first read in each process is
    checked against a build with the real values, and a ``build`` that breaks these rules
    fails there, loudly. On PostgreSQL a call gives a read for ``read_together`` (or
    ``rows``); elsewhere it runs ``build`` every time and gives its queryset.

    ``prepared=False``: planned for its values at every call (a read whose generic plan
    is worse than planning it each time).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], *, prepared: bool = True) -> None:
        self.build = build
        self.name = f"cc_shape_{next(_shape_numbers)}"  # its prepared statement's
        self.prepared = prepared
        self._template: _Template | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: Any) -> Any:
        if connection.vendor != "postgresql":
            return self.build(*args)
        return Bound(self, args)

    def rows(self, *args: Any) -> list[Any]:
        """The read's rows, on their own."""
        (found,) = read_together(self(*args))
        return found

    def template(self, args: tuple[Any, ...]) -> _Template:
        template = self._template
        if template is None:
            with self._lock:
                if self._template is None:
                    self._template = self._compile(args)
                template = self._template
        return template

    def _compile(self, args: tuple[Any, ...]) -> _Template:
        name = getattr(self.build, "__qualname__", repr(self.build))
        marks = [_mark(name, at, value) for at, value in enumerate(args)]
        try:
            plan = _plan(self.build(*marks))
        except (TypeError, ValueError) as exc:  # a field that converts what it is given
            raise TypeError(f"Shape {name}: the placeholders do not build: {exc}") from exc
        if plan is None:
            raise TypeError(f"Shape {name}: the placeholders build a read with nothing to ask")
        slots = [_slot(param, marks) for param in plan.params]
        if unused := set(range(len(args))) - set(slots):
            raise TypeError(
                f"Shape {name}: argument(s) {sorted(unused)} do not reach the statement as "
                "parameters of their own"
            )
        params = tuple(zip(slots, plan.params, strict=True))
        template = _Template(self.name, plan.sql, params, plan.rows)
        real = _plan(self.build(*args))
        if real is None or (real.sql, list(real.params)) != (template.sql, template.bind(args)):
            raise TypeError(
                f"Shape {name}: the statement depends on the values, not only on their places"
            )
        return template


@dataclass(frozen=True)
class Bound:
    """A ``Shape``'s read with its values."""

    shape: Shape
    args: tuple[Any, ...]


_shape_numbers = itertools.count(1)


@dataclass(frozen=True)
class _Template:
    name: str
    sql: str
    params: tuple[tuple[int | None, Any], ...]  # (argument index, or None: a constant)
    rows: Callable[[list[tuple[Any, ...]]], list[Any]]

    def bind(self, args: tuple[Any, ...]) -> list[Any]:
        return [value if at is None else _param(args[at]) for at, value in self.params]

    @functools.cached_property
    def statement(self) -> Statement:
        return Statement(self.name, self.sql)


def _param(value: Any) -> Any:
    # As the ``any`` lookup passes its values: a list.
    return list(value) if isinstance(value, list | tuple | set | frozenset) else value


@dataclass(frozen=True)
class _Placeholder:
    at: int


_MARK_INT = -1_987_654_321  # an int column's placeholder: no id or figure is ever this
_MARK_TIME = datetime(1901, 2, 3, tzinfo=UTC)


def _mark(name: str, at: int, value: Any) -> Any:
    """The placeholder that stands for argument ``at``, of the kind of ``value``."""
    if isinstance(value, list | tuple | set | frozenset):
        return [_Placeholder(at)]
    if isinstance(value, bool) or value is None:
        pass  # each would build another statement (a constant, IS NULL)
    elif isinstance(value, int):
        return _MARK_INT + at
    elif isinstance(value, str):
        return f"\x1fshape-argument-{at}\x1f"
    elif isinstance(value, datetime) and value.tzinfo is not None:
        return _MARK_TIME + timedelta(microseconds=at)
    raise TypeError(f"Shape {name}: argument {at} cannot be a placeholder: {value!r}")


def _slot(param: Any, marks: list[Any]) -> int | None:
    if isinstance(param, list) and len(param) == 1 and isinstance(param[0], _Placeholder):
        return param[0].at
    for at, mark in enumerate(marks):
        if type(param) is type(mark) and not isinstance(mark, list) and param == mark:
            return at
    return None
