"""Round trips to PostgreSQL, counted off the wire: the connection's protocol trace
(libpq's), one ``ReadyForQuery`` from the server per exchange the client waited for.

A statement prepared on the connection (config.db.roundtrips: shapes, held writes)
goes out as ``EXECUTE name(values)``, preceded the first time by its ``PREPARE``:
``statements`` shows each as the statement it runs (whenever it was prepared) and
leaves the ``PREPARE``s out, ``sent`` is the text as it went.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from psycopg import Error, pq

_PREPARE = re.compile(r"(DEALLOCATE ALL|PREPARE cc_\w+?_\d+ AS [^\n]*?)(;\n|$)")
_EXECUTE = re.compile(r"EXECUTE (cc_\w+?_\d+)")


@dataclass
class Exchanges:
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    """(``F`` from the client or ``B`` from the server, message type, its content)."""
    prepared: dict[str, str] = field(default_factory=dict)
    """The connection's prepared statements at the end: name -> the statement it runs."""

    @property
    def count(self) -> int:
        return sum(1 for side, kind, _ in self.messages if (side, kind) == ("B", "ReadyForQuery"))

    @property
    def sent(self) -> list[str]:
        """The text of each simple query sent (several statements, joined by ``;``)."""
        return [text.strip().strip('"') for side, kind, text in self.messages if kind == "Query"]

    @property
    def statements(self) -> list[str]:
        """``sent``, with each prepared read shown as the statement it runs."""
        return [
            _EXECUTE.sub(lambda m: self.prepared[m[1]], _PREPARE.sub("", text))
            for text in self.sent
        ]


def _messages(trace: str) -> list[tuple[str, str, str]]:
    records: list[str] = []
    for line in trace.splitlines():
        if line[:2] in ("F\t", "B\t") or not records:
            records.append(line)
        else:  # a statement's text goes on over several lines
            records[-1] += "\n" + line
    messages = []
    for record in records:
        side, _length, kind, *rest = [*record.split("\t", 3), ""]
        messages.append((side, kind, rest[0]))
    return messages


@contextmanager
def round_trips() -> Iterator[Exchanges]:
    """This thread's connection's round trips inside the block (PostgreSQL only)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    found = Exchanges()
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield found
        finally:
            pgconn.untrace()
            trace.seek(0)
            found.messages = _messages(trace.read())
            found.prepared = _prepared()


def _prepared() -> dict[str, str]:
    try:
        rows = connection.connection.execute(
            "SELECT name, statement FROM pg_prepared_statements"
        ).fetchall()
    except Error:  # the block left its transaction failed: nothing to show
        return {}
    # Its statement is the whole query string it came in (the reads sent with it too).
    found = {}
    for name, statement in rows:
        match = re.search(rf"PREPARE {name} AS ([^\n]*?)(;\n|$)", statement)
        if match:
            found[name] = match[1]
    return found
