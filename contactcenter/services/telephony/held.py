"""Writes held and sent together (PostgreSQL): a batch's writes in one round trip.

Inside ``together`` (telephony_apply), ``write`` holds the statements that return
nothing (contactcenter.services.telephony.bulk: the small batches' array UPDATEs and
INSERTs). They go out together, in the order they were made, in one round trip before
the next statement of any other kind (a read: its rows may depend on them), before a
COPY (``send``: not an execute, which the wrapper would see) and at the end. Each round
trip costs the writer a wait for the database process and then for the interpreter
lock, which on a busy machine is most of a batch's time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection


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
        with connection.execute_wrapper(_send_first):
            yield
            send()
    finally:
        _held.statements = None


def _send_first(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
) -> Any:
    send()
    return execute(sql, params, many, context)


def send() -> None:
    """The statements held so far, in one round trip."""
    statements = _held.statements
    if not statements:
        return
    _held.statements = None  # this very execute goes through the wrapper too
    try:
        with connection.cursor() as cursor:
            # Bound already: no parameters, so nothing in the text is read as one.
            cursor.execute(";\n".join(statements))
    finally:
        _held.statements = []


def write(sql: str, params: Any) -> None:
    """Run a statement that returns nothing: at once, or held (``together``)."""
    with connection.cursor() as cursor:
        if _held.statements is None:
            cursor.execute(sql, params)
        else:
            # Client-side binding, as Django's psycopg cursor does for every statement.
            _held.statements.append(cursor.cursor.mogrify(sql, params))
