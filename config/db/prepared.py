"""Statements prepared by name on PostgreSQL, for config.db.roundtrips.

A statement is prepared once per connection (``PREPARE``, in the round trip of its first
use, then ``EXECUTE`` with the values) and planned once, generically
(``plan_cache_mode``, set on the connection by config.settings): planning the hot
statements at every call took PostgreSQL as long as running them.
``DATABASE_PREPARED_STATEMENTS=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Statement:
    """A statement prepared by name: its ``PREPARE``, and its ``EXECUTE`` with values."""

    name: str
    sql: str  # with %s or %(key)s placeholders

    @functools.cached_property
    def _numbered(self) -> tuple[str, tuple[str, ...] | None, int]:
        """The text with numbered parameters, the keys in their order (None for %s), and
        how many parameters there are."""
        keys: list[str] = []
        positional = 0

        def number(match: re.Match[str]) -> str:
            nonlocal positional
            if match[0] == "%%":
                return "%"
            if match[1] is None:
                positional += 1
                return f"${positional}"
            if match[1] not in keys:
                keys.append(match[1])
            return f"${keys.index(match[1]) + 1}"

        sql = re.sub(r"%%|%s|%\((\w+)\)s", number, self.sql)
        if keys and positional:
            raise ValueError(f"{self.name}: named and positional parameters together")
        return sql, tuple(keys) if keys else None, len(keys) or positional

    @functools.cached_property
    def prepare(self) -> str:
        """Its parameters' types come from the columns and casts they meet."""
        return f"PREPARE {self.name} AS {self._numbered[0]}"

    @functools.cached_property
    def execute(self) -> str:
        """To be bound to ``args``, as the statement itself would be."""
        count = self._numbered[2]
        if not count:
            return f"EXECUTE {self.name}"
        return f"EXECUTE {self.name}({', '.join(['%s'] * count)})"

    def args(self, params: Any) -> list[Any]:
        keys = self._numbered[1]
        return list(params) if keys is None else [params[key] for key in keys]


@contextlib.contextmanager
def preparing(statements: Sequence[Statement]) -> Iterator[list[str]]:
    """The ``PREPARE``s this connection lacks for ``statements``, to go first in the
    round trip made inside the block; the connection's record follows its outcome."""
    session = Session.of_connection()
    prepares = session.preparing(statements)
    try:
        yield prepares
    except BaseException:
        session.unsure = session.unsure or bool(prepares)
        raise
    session.prepared(statements)


class Session:
    """The statements prepared on one database connection (a thread's, while it lasts)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.names: set[str] = set()
        # A round trip that failed may have prepared some of its statements and not the
        # others: the next one starts from none (DEALLOCATE ALL).
        self.unsure = False

    @staticmethod
    def of_connection() -> Session:
        raw = connection.connection
        session: Session | None = getattr(connection, "_prepared_statements", None)
        if session is None or session.raw is not raw:  # a new connection prepared nothing
            session = Session(raw)
            connection._prepared_statements = session  # type: ignore[attr-defined]
        return session

    def preparing(self, statements: Sequence[Statement]) -> list[str]:
        """The ``PREPARE``s of those of ``statements`` this connection lacks."""
        wanted = {statement.name: statement for statement in statements}
        if self.unsure and wanted:
            self.unsure = False
            self.names.clear()
            return ["DEALLOCATE ALL", *(s.prepare for s in wanted.values())]
        return [s.prepare for name, s in wanted.items() if name not in self.names]

    def prepared(self, statements: Sequence[Statement]) -> None:
        """After the round trip that executed ``statements`` went through."""
        self.names.update(statement.name for statement in statements)


_by_text: dict[str, Statement] = {}
_by_text_lock = threading.Lock()
_WRITES_MOST = 256  # distinct texts prepared; the bridge's batches make a few dozen


def written(sql: str) -> Statement | None:
    """The prepared statement of a write's text (None: not prepared)."""
    if not settings.DATABASE_PREPARED_STATEMENTS:
        return None
    statement = _by_text.get(sql)
    if statement is None:
        with _by_text_lock:
            if sql not in _by_text and len(_by_text) < _WRITES_MOST:
                _by_text[sql] = Statement(f"cc_write_{len(_by_text) + 1}", sql)
            statement = _by_text.get(sql)
    return statement
