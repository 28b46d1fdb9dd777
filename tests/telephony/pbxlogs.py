"""A PBX's log database for tests: a PostgreSQL database of its own (beside the test
database, on the same server) holding Asterisk's CEL, queue_log and CDR tables, which
the simulator's CelWriter fills and the bridge's backfill reads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection

from telephony.ami.simulator.cel_writer import create_tables
from telephony.cel.source import CelSource
from tests.conftest import admin_session

# What CEL and queue_log tell of a call (not hold times: CEL has no hold events).
LOGGED = (
    "status",
    "direction",
    "agent",
    "queue",
    "caller_number",
    "callee_number",
    "started_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "hangup_by",
)


@dataclass(frozen=True)
class PbxLogs:
    dsn: str
    source: CelSource

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())

    def execute(self, query: str, params: Any = None) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(query, params)


@contextlib.contextmanager
def pbx_log_database() -> Iterator[PbxLogs]:
    """A fresh database with Asterisk's log tables; dropped on exit."""
    db = connection.settings_dict
    name = f"{db['NAME']}_pbx"
    quoted = connection.ops.quote_name(name)
    with admin_session("postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {quoted}")
    password = db["PASSWORD"] or ""
    auth = f"{db['USER']}:{password}" if password else db["USER"]
    dsn = f"postgresql://{auth}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_tables(conn)
    source = CelSource(
        host=db["HOST"],
        port=int(db["PORT"] or 5432),
        dbname=name,
        user=db["USER"],
        password=password,
        trusted=True,
    )
    try:
        yield PbxLogs(dsn=dsn, source=source)
    finally:
        with admin_session("postgres") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
