"""Where a PBX keeps its call logs: the read-only CEL/CDR/queue_log source of a connection.

Asterisk writes Channel Event Logging rows (``cel_pgsql``), CDRs (``cdr_pgsql``) and
app_queue's queue_log (realtime) to a PostgreSQL database of its own. What AMI cannot
replay after an outage is there (docs/telephony.md, "Sources of truth").

The source of a tenant's record is typed by its admin, so it is checked like the AMI
target (telephony/egress.py): a URL of the form ``postgresql://user@host:port/dbname``,
no password in it (the password is a field of its own, write-only and stored
encrypted), the host allowed by the operator's policy when saved and again before every
connect, and the session opened read-only on the address that passed the check. The
source of ``AMI_URL``'s connection is the operator's own ``CEL_DATABASE_URL`` and is
not checked.
"""

from __future__ import annotations

import asyncio
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from django.core.exceptions import ImproperlyConfigured, ValidationError

from telephony.egress import check_target, validate_host

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?")
_DATABASE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT = 5  # seconds
STATEMENT_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class CelSource:
    """A PBX's log database and its tables. ``trusted``: the operator named it."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = ""
    cel_table: str = "cel"
    queue_log_table: str = "queue_log"
    cdr_table: str = "cdr"
    time_zone: str = "UTC"
    trusted: bool = False

    def __repr__(self) -> str:  # never the password
        return f"CelSource({self.user}@{self.host}:{self.port}/{self.dbname})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class UrlParts:
    host: str
    port: int
    dbname: str
    user: str
    password: str


def parse_url(url: str, *, allow_password: bool) -> UrlParts:
    """``postgresql://user[:password]@host[:port]/dbname``; raises ValidationError."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:
        raise ValidationError("Not a database URL.", code="invalid_url") from exc
    if parts.scheme not in _SCHEMES or parts.query or parts.fragment:
        raise ValidationError(
            "Write the source as postgresql://user@host:port/database (PostgreSQL only, "
            "no options).",
            code="invalid_url",
        )
    host, user, dbname = parts.hostname or "", unquote(parts.username or ""), parts.path[1:]
    if not host or not user or not _DATABASE.fullmatch(dbname):
        raise ValidationError(
            "The URL needs a user, a host and a database name.", code="invalid_url"
        )
    if parts.password is not None and not allow_password:
        raise ValidationError(
            "Put the password in its own field, not in the URL (it would be shown).",
            code="password_in_url",
        )
    validate_host(host)
    return UrlParts(host, port, dbname, user, unquote(parts.password or ""))


def validate_url(value: str) -> None:
    """Model validator of a record's source URL (the form only; the policy is apart)."""
    if value:
        parse_url(value, allow_password=False)


def validate_table(value: str) -> None:
    """A table name, optionally schema-qualified: it is quoted, never pasted, but a name
    that is not an identifier is a typo worth refusing."""
    if value and not _IDENTIFIER.fullmatch(value):
        raise ValidationError("Not a table name (letters, digits, _; schema.table).", code="table")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Not a time zone (e.g. UTC, Europe/Amsterdam).", code="zone") from exc


def source_of_record(record: Any) -> CelSource | None:
    """The source configured on an AsteriskConnection, or None."""
    if not record.cel_url:
        return None
    parts = parse_url(record.cel_url, allow_password=False)
    return CelSource(
        host=parts.host,
        port=parts.port,
        dbname=parts.dbname,
        user=parts.user,
        password=record.cel_password,
        cel_table=record.cel_table,
        queue_log_table=record.cel_queue_log_table,
        cdr_table=record.cel_cdr_table,
        time_zone=record.cel_time_zone,
    )


def source_of_settings(settings: Any) -> CelSource | None:
    """The operator's source for AMI_URL's connection (CEL_DATABASE_URL ...), or None."""
    url = getattr(settings, "CEL_DATABASE_URL", "")
    if not url:
        return None
    zone = getattr(settings, "CEL_TIME_ZONE", "UTC")
    try:
        parts = parse_url(url, allow_password=True)
        validate_time_zone(zone)  # it goes into the session's options
    except ValidationError as exc:
        raise ImproperlyConfigured(f"CEL_DATABASE_URL or CEL_TIME_ZONE: {exc.message}") from exc
    return CelSource(
        host=parts.host,
        port=parts.port,
        dbname=parts.dbname,
        user=parts.user,
        password=parts.password,
        cel_table=getattr(settings, "CEL_TABLE", "cel"),
        queue_log_table=getattr(settings, "CEL_QUEUE_LOG_TABLE", "queue_log"),
        cdr_table=getattr(settings, "CEL_CDR_TABLE", "cdr"),
        time_zone=zone,
        trusted=True,
    )


def check_source(source: CelSource) -> str:
    """The address to dial: a tenant's host must pass the operator's policy (raises
    TargetRefused); the operator's own source is dialled by name."""
    if source.trusted:
        return ""
    return str(check_target(source.host, source.port)[0])


async def connect(source: CelSource) -> psycopg.AsyncConnection[Any]:
    """A read-only session on the source, in its time zone; the checked address dialled
    (``hostaddr``), so a DNS answer changed since the check cannot steer it."""
    address = await asyncio.to_thread(check_source, source)
    params: dict[str, Any] = {
        "host": source.host,
        "port": source.port,
        "dbname": source.dbname,
        "user": source.user,
        "password": source.password,
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": "contactcenter-cel",
        "options": (
            "-c default_transaction_read_only=on"
            f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
            f" -c TimeZone={source.time_zone}"
        ),
    }
    if address:
        params["hostaddr"] = address
    return await psycopg.AsyncConnection.connect(autocommit=True, **params)
