"""Round trips to PostgreSQL, counted off the wire: the connection's protocol trace
(libpq's), one ``ReadyForQuery`` from the server per exchange the client waited for."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from psycopg import pq


@dataclass
class Exchanges:
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    """(``F`` from the client or ``B`` from the server, message type, its content)."""

    @property
    def count(self) -> int:
        return sum(1 for side, kind, _ in self.messages if (side, kind) == ("B", "ReadyForQuery"))

    @property
    def statements(self) -> list[str]:
        """The text of each simple query sent (several statements, joined by ``;``)."""
        return [text.strip().strip('"') for side, kind, text in self.messages if kind == "Query"]


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
