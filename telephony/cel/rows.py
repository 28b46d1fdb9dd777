"""Reading a PBX's CEL and queue_log tables (Asterisk's own layouts, docs/telephony.md).

Only the columns the conversion needs are read. Times come back aware: the session runs
in the source's time zone (source.connect), so a ``timestamp`` column written in local
time by cel_pgsql and a ``timestamptz`` column read the same. The same row read twice
(a re-delivered row, a replayed table) is kept once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from telephony.cel.source import CelSource


@dataclass(frozen=True)
class CelRow:
    eventtype: str
    eventtime: datetime
    uniqueid: str
    linkedid: str
    channame: str = ""
    cid_num: str = ""
    cid_name: str = ""
    cid_dnid: str = ""
    exten: str = ""
    context: str = ""
    peer: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def identity(self) -> tuple[str, str, datetime]:
        return (self.eventtype, self.uniqueid, self.eventtime)


@dataclass(frozen=True)
class QueueLogRow:
    time: datetime
    callid: str
    queuename: str
    agent: str
    event: str
    data: tuple[str, ...] = ()

    def number(self, index: int) -> int | None:
        """data<index+1> as a whole number (0..2^31-1), else None."""
        raw = self.data[index].strip() if index < len(self.data) else ""
        if raw.isascii() and raw.isdigit() and int(raw) < 2**31:
            return int(raw)
        return None


@dataclass
class History:
    """Every CEL row of a set of calls up to a moment, and their queue_log rows."""

    cel: list[CelRow] = field(default_factory=list)
    queue_log: list[QueueLogRow] = field(default_factory=list)


def _aware(value: datetime, source: CelSource) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=source.zone)


def _time(value: Any, source: CelSource) -> datetime | None:
    """A row's time, or None for what is not one (a NULL, a text column of a log
    database that is not Asterisk's): such a row is skipped, not the whole read."""
    return _aware(value, source) if isinstance(value, datetime) else None


def _extra(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _table(name: str) -> sql.Composable:
    return sql.Identifier(*name.split("."))


_CEL_COLUMNS = sql.SQL(
    "eventtype, eventtime, uniqueid, linkedid, channame, cid_num, cid_name, cid_dnid,"
    " exten, context, peer, extra"
)


def _cel_row(row: Sequence[Any], source: CelSource) -> CelRow | None:
    at = _time(row[1], source)
    if at is None:
        return None
    values = [value if value is not None else "" for value in row]
    return CelRow(
        eventtype=str(values[0]),
        eventtime=at,
        uniqueid=str(values[2]),
        linkedid=str(values[3]),
        channame=str(values[4]),
        cid_num=str(values[5]),
        cid_name=str(values[6]),
        cid_dnid=str(values[7]),
        exten=str(values[8]),
        context=str(values[9]),
        peer=str(values[10]),
        extra=_extra(row[11]),
    )


def _unique(rows: Iterable[CelRow]) -> list[CelRow]:
    kept: dict[tuple[str, str, datetime], CelRow] = {}
    for row in rows:
        kept.setdefault(row.identity, row)
    return sorted(kept.values(), key=lambda r: (r.eventtime, r.identity))


async def touched_linkedids(
    conn: psycopg.AsyncConnection[Any], source: CelSource, since: datetime, until: datetime
) -> set[str]:
    """The calls with a CEL row in (since, until]."""
    query = sql.SQL(
        "SELECT DISTINCT linkedid FROM {} WHERE eventtime > %s AND eventtime <= %s"
    ).format(_table(source.cel_table))
    cursor = await conn.execute(query, [since, until])
    return {str(linkedid) for (linkedid,) in await cursor.fetchall()}


async def read_history(
    conn: psycopg.AsyncConnection[Any],
    source: CelSource,
    linkedids: set[str],
    until: datetime,
) -> History:
    """The CEL rows of ``linkedids`` up to ``until``, with the rows of their channels
    under another linkedid (a transfer moves a channel to the oldest call in its bridge),
    and the queue_log rows of those channels."""
    history = History()
    if not linkedids:
        return history
    query = sql.SQL(
        "SELECT {} FROM {} WHERE (linkedid = ANY(%s) OR uniqueid = ANY(%s))"
        " AND eventtime <= %s ORDER BY eventtime"
    ).format(_CEL_COLUMNS, _table(source.cel_table))
    keys = sorted(linkedids)
    cursor = await conn.execute(query, [keys, keys, until])
    rows = [r for row in await cursor.fetchall() if (r := _cel_row(row, source)) is not None]
    moved = {row.linkedid for row in rows} - linkedids
    if moved:
        keys = sorted(linkedids | moved)
        cursor = await conn.execute(query, [keys, keys, until])
        rows = [r for row in await cursor.fetchall() if (r := _cel_row(row, source)) is not None]
    history.cel = _unique(rows)
    if source.queue_log_table:
        history.queue_log = await _queue_log(
            conn, source, sorted({row.uniqueid for row in history.cel}), until
        )
    return history


async def _queue_log(
    conn: psycopg.AsyncConnection[Any], source: CelSource, callids: list[str], until: datetime
) -> list[QueueLogRow]:
    query = sql.SQL(
        "SELECT time, callid, queuename, agent, event, data1, data2, data3, data4, data5"
        " FROM {} WHERE callid = ANY(%s) AND time <= %s ORDER BY time"
    ).format(_table(source.queue_log_table))
    cursor = await conn.execute(query, [callids, until])
    kept: dict[tuple[str, str, datetime], QueueLogRow] = {}
    for row in await cursor.fetchall():
        at = _time(row[0], source)
        if at is None:
            continue
        item = QueueLogRow(
            time=at,
            callid=str(row[1] or ""),
            queuename=str(row[2] or ""),
            agent=str(row[3] or ""),
            event=str(row[4] or ""),
            data=tuple(str(value or "") for value in row[5:10]),
        )
        kept.setdefault((item.event, item.callid, item.time), item)
    return sorted(kept.values(), key=lambda r: (r.time, r.event, r.callid))


@dataclass(frozen=True)
class CdrRow:
    linkedid: str
    uniqueid: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    src: str
    dst: str


async def read_cdrs(
    conn: psycopg.AsyncConnection[Any], source: CelSource, since: datetime, until: datetime
) -> list[CdrRow]:
    """The CDRs of calls that started in [since, until)."""
    query = sql.SQL(
        'SELECT linkedid, uniqueid, start, answer, "end", disposition, src, dst FROM {}'
        " WHERE start >= %s AND start < %s ORDER BY start"
    ).format(_table(source.cdr_table))
    cursor = await conn.execute(query, [since, until])
    found = []
    for row in await cursor.fetchall():
        start, end = _time(row[2], source), _time(row[4], source)
        if start is None or end is None:
            continue
        found.append(
            CdrRow(
                linkedid=str(row[0] or row[1]),
                uniqueid=str(row[1]),
                start=start,
                answer=_time(row[3], source),
                end=end,
                disposition=str(row[5] or ""),
                src=str(row[6] or ""),
                dst=str(row[7] or ""),
            )
        )
    return found
