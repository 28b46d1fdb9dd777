"""The simulated PBX's call logs: CEL, queue_log and CDR rows in PostgreSQL.

Asterisk derives its Channel Event Logging from the same stasis messages its AMI events
come from, so this writer watches the events the simulated PBX emits and writes the
rows ``cel_pgsql``, app_queue's realtime queue_log and ``cdr_pgsql`` would, in their
own table layouts (``TABLES``), with the event's time to the microsecond. Drills then
prove the bridge's backfill (telephony/cel/) against what the PBX logged.

Rows are written in the PBX's order by one task; ``delay`` holds each row that long
first, as a buffering log backend does (a row arriving late). CDRs here are one per
call (the first channel's), a simplification of Asterisk's one per pair of parties.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from telephony.ami.frames import AmiMessage

logger = logging.getLogger(__name__)

TABLES = """
CREATE TABLE IF NOT EXISTS {cel} (
    id bigserial PRIMARY KEY,
    eventtype varchar(30) NOT NULL,
    eventtime timestamp NOT NULL,
    userdeftype varchar(255) NOT NULL DEFAULT '',
    cid_name varchar(80) NOT NULL DEFAULT '',
    cid_num varchar(80) NOT NULL DEFAULT '',
    cid_ani varchar(80) NOT NULL DEFAULT '',
    cid_rdnis varchar(80) NOT NULL DEFAULT '',
    cid_dnid varchar(80) NOT NULL DEFAULT '',
    exten varchar(80) NOT NULL DEFAULT '',
    context varchar(80) NOT NULL DEFAULT '',
    channame varchar(80) NOT NULL DEFAULT '',
    appname varchar(80) NOT NULL DEFAULT '',
    appdata varchar(80) NOT NULL DEFAULT '',
    amaflags integer NOT NULL DEFAULT 0,
    accountcode varchar(20) NOT NULL DEFAULT '',
    peeraccount varchar(20) NOT NULL DEFAULT '',
    uniqueid varchar(150) NOT NULL,
    linkedid varchar(150) NOT NULL,
    userfield varchar(255) NOT NULL DEFAULT '',
    peer varchar(80) NOT NULL DEFAULT '',
    extra varchar(512) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS {cel_time} ON {cel} (eventtime);
CREATE INDEX IF NOT EXISTS {cel_linkedid} ON {cel} (linkedid);
CREATE TABLE IF NOT EXISTS {queue_log} (
    id bigserial PRIMARY KEY,
    time timestamp,
    callid varchar(80),
    queuename varchar(256),
    agent varchar(80),
    event varchar(32),
    data1 varchar(100),
    data2 varchar(100),
    data3 varchar(100),
    data4 varchar(100),
    data5 varchar(100)
);
CREATE INDEX IF NOT EXISTS {queue_log_callid} ON {queue_log} (callid);
CREATE TABLE IF NOT EXISTS {cdr} (
    id bigserial PRIMARY KEY,
    accountcode varchar(80), src varchar(80), dst varchar(80), dcontext varchar(80),
    clid varchar(80), channel varchar(80), dstchannel varchar(80), lastapp varchar(80),
    lastdata varchar(80), start timestamp, answer timestamp, "end" timestamp,
    duration integer, billsec integer, disposition varchar(45), amaflags varchar(45),
    userfield varchar(256), uniqueid varchar(150), linkedid varchar(150),
    peeraccount varchar(80), sequence integer
);
CREATE INDEX IF NOT EXISTS {cdr_start} ON {cdr} (start);
"""

_CEL = (
    "eventtype, eventtime, cid_name, cid_num, cid_dnid, exten, context, channame, "
    "uniqueid, linkedid, peer, extra"
)
_QUEUE_LOG = "time, callid, queuename, agent, event, data1, data2, data3, data4, data5"
_CDR = (
    'src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, "end",'
    " duration, billsec, disposition, amaflags, uniqueid, linkedid"
)
_COMPLETE = {"caller": "COMPLETECALLER", "agent": "COMPLETEAGENT"}


def cel_tables(*, cel: str = "cel", queue_log: str = "queue_log", cdr: str = "cdr") -> sql.Composed:
    """Asterisk's tables (the layouts of its ast-db-manage scripts), created if missing."""
    names = {
        "cel": cel,
        "queue_log": queue_log,
        "cdr": cdr,
        "cel_time": f"{cel}_eventtime",
        "cel_linkedid": f"{cel}_linkedid",
        "queue_log_callid": f"{queue_log}_callid",
        "cdr_start": f"{cdr}_start",
    }
    return sql.SQL(TABLES).format(**{k: sql.Identifier(v) for k, v in names.items()})


def create_tables(conn: psycopg.Connection[Any], **tables: str) -> None:
    conn.execute(cel_tables(**tables))


def _when(message: AmiMessage) -> datetime:
    """The event's Timestamp as a naive UTC time (cel_pgsql with usegmtime=yes), exact."""
    seconds, _, fraction = (message.get("Timestamp") or "0").partition(".")
    usec = int(seconds) * 1_000_000 + int((fraction + "000000")[:6])
    return datetime.fromtimestamp(usec // 1_000_000, tz=UTC).replace(
        microsecond=usec % 1_000_000, tzinfo=None
    )


def _v(message: AmiMessage, key: str) -> str:
    value = message.get(key) or ""
    return "" if value in ("<unknown>", "unknown") else value


class CelWriter:
    """Watches the PBX model's events (``attach``) and writes its logs to ``dsn``."""

    def __init__(
        self,
        dsn: str,
        *,
        cel: str = "cel",
        queue_log: str = "queue_log",
        cdr: str = "cdr",
        delay: float = 0.0,
    ) -> None:
        self.dsn = dsn
        self.tables = {"cel": cel, "queue_log": queue_log, "cdr": cdr}
        self.delay = delay
        self.written = 0
        self._rows: deque[tuple[float, str, tuple[Any, ...]]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._linkedid: dict[str, str] = {}  # uniqueid -> its call now
        self._members: dict[str, set[str]] = {}  # linkedid -> live channels
        self._call_start: dict[str, datetime] = {}  # linkedid -> its first channel's start
        self._answered: dict[str, datetime] = {}  # linkedid -> answered
        self._hangup_source: dict[str, str] = {}  # linkedid -> channel that hung up first
        self._dial_status: dict[str, str] = {}
        self._transfer: dict[str, str] = {}  # linkedid -> last transfer kind
        self._handlers: dict[str, Callable[[AmiMessage, datetime], None]] = {
            "Newchannel": self._newchannel,
            "Newstate": self._newstate,
            "BridgeEnter": lambda m, at: self._cel("BRIDGE_ENTER", m, at, self._bridge(m)),
            "BridgeLeave": lambda m, at: self._cel("BRIDGE_EXIT", m, at, self._bridge(m)),
            "BlindTransfer": self._blind,
            "AttendedTransfer": self._attended,
            "HangupRequest": self._hangup_request,
            "DialEnd": self._dial_end,
            "Hangup": self._hangup,
            "QueueCallerJoin": self._join,
            "AgentConnect": self._connect,
            "AgentComplete": self._complete,
            "QueueCallerAbandon": self._abandon,
            "AgentRingNoAnswer": self._ring_no_answer,
            "Cdr": self._cdr,
        }

    # -- wiring ------------------------------------------------------------------------

    def attach(self, pbx: Any) -> None:
        """Tee the PBX model's event sink through this writer and start writing."""
        sink = pbx.sink

        def tee(message: AmiMessage) -> None:
            self.observe(message)
            sink(message)

        pbx.sink = tee
        self._task = asyncio.create_task(self._run(), name="cel-writer")

    async def flushed(self) -> None:
        """Until every row observed so far is written."""
        while self._rows:
            self._idle.clear()
            self._wake.set()
            await self._idle.wait()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flushed(), 30)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def observe(self, message: AmiMessage) -> None:
        handler = self._handlers.get(message.event or "")
        if handler is not None:
            handler(message, _when(message))

    # -- writing -------------------------------------------------------------------------

    def _put(self, table: str, row: tuple[Any, ...]) -> None:
        self._rows.append((time.monotonic() + self.delay, table, row))
        self._wake.set()

    async def _run(self) -> None:
        try:
            await self._write()
        except psycopg.Error:
            # The log database is gone: say so (a drill then sees rows missing, not a hang).
            logger.exception("CEL writer: cannot write to the log database; rows dropped")
            self._rows.clear()
            self._idle.set()

    async def _write(self) -> None:
        columns = {"cel": _CEL, "queue_log": _QUEUE_LOG, "cdr": _CDR}
        statements = {
            table: sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(*self.tables[table].split(".")),
                sql.SQL(columns[table]),
                sql.SQL(", ").join(sql.Placeholder() * len(columns[table].split(","))),
            )
            for table in columns
        }
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
            while True:
                if not self._rows:
                    self._idle.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                due = self._rows[0][0] - time.monotonic()
                if due > 0:
                    await asyncio.sleep(min(due, 0.05))
                    continue
                async with conn.cursor() as cursor, conn.transaction():
                    while self._rows and self._rows[0][0] <= time.monotonic():
                        _, table, row = self._rows.popleft()
                        await cursor.execute(statements[table], row)
                        self.written += 1

    # -- CEL -------------------------------------------------------------------------------

    def _cel(
        self,
        eventtype: str,
        message: AmiMessage,
        at: datetime,
        extra: dict[str, Any] | None = None,
        prefix: str = "",
    ) -> None:
        uniqueid = _v(message, f"{prefix}Uniqueid")
        linkedid = _v(message, f"{prefix}Linkedid") or uniqueid
        self._move(uniqueid, linkedid, at)
        self._put(
            "cel",
            (
                eventtype,
                at,
                _v(message, f"{prefix}CallerIDName"),
                _v(message, f"{prefix}CallerIDNum"),
                "",
                _v(message, f"{prefix}Exten"),
                _v(message, f"{prefix}Context"),
                _v(message, f"{prefix}Channel"),
                uniqueid,
                linkedid,
                "",
                json.dumps(extra) if extra else "",
            ),
        )

    def _move(self, uniqueid: str, linkedid: str, at: datetime) -> None:
        """A channel now in another call (a bridge gave it the oldest Linkedid)."""
        old = self._linkedid.get(uniqueid)
        if old is None or old == linkedid:
            return
        self._linkedid[uniqueid] = linkedid
        self._members.setdefault(linkedid, set()).add(uniqueid)
        self._leave(old, uniqueid, at)

    def _leave(self, linkedid: str, uniqueid: str, at: datetime) -> None:
        """The channel left the call; the call's last one gone ends its Linkedid."""
        members = self._members.get(linkedid)
        if members is None:
            return
        members.discard(uniqueid)
        if not members:
            del self._members[linkedid]
            self._hangup_source.pop(linkedid, None)
            self._put(
                "cel", ("LINKEDID_END", at, "", "", "", "", "", "", uniqueid, linkedid, "", "")
            )

    @staticmethod
    def _bridge(message: AmiMessage) -> dict[str, Any]:
        return {"bridge_id": _v(message, "BridgeUniqueid")}

    def _newchannel(self, message: AmiMessage, at: datetime) -> None:
        uniqueid = _v(message, "Uniqueid")
        linkedid = _v(message, "Linkedid") or uniqueid
        self._linkedid[uniqueid] = linkedid
        self._members.setdefault(linkedid, set()).add(uniqueid)
        if uniqueid == linkedid:
            self._call_start[linkedid] = at
        self._cel("CHAN_START", message, at)

    def _newstate(self, message: AmiMessage, at: datetime) -> None:
        if _v(message, "ChannelState") == "6":
            linkedid = _v(message, "Linkedid")
            if _v(message, "Uniqueid") != linkedid:
                self._answered.setdefault(linkedid, at)
            self._cel("ANSWER", message, at)

    def _blind(self, message: AmiMessage, at: datetime) -> None:
        self._transfer[_v(message, "TransfereeLinkedid")] = "BLINDTRANSFER"
        extra = {
            "extension": _v(message, "Extension"),
            "context": _v(message, "Context"),
            "bridge_id": _v(message, "BridgeUniqueid"),
            "transferee_channel_name": _v(message, "TransfereeChannel"),
            "transferee_channel_uniqueid": _v(message, "TransfereeUniqueid"),
        }
        self._cel("BLINDTRANSFER", message, at, extra, prefix="Transferer")

    def _attended(self, message: AmiMessage, at: datetime) -> None:
        self._transfer[_v(message, "TransfereeLinkedid")] = "ATTENDEDTRANSFER"
        extra = {
            "bridge1_id": _v(message, "OrigBridgeUniqueid"),
            "channel2_name": _v(message, "SecondTransfererChannel"),
            "channel2_uniqueid": _v(message, "SecondTransfererUniqueid"),
            "bridge2_id": _v(message, "SecondBridgeUniqueid"),
            "transferee_channel_name": _v(message, "TransfereeChannel"),
            "transferee_channel_uniqueid": _v(message, "TransfereeUniqueid"),
            "transfer_target_channel_name": _v(message, "TransferTargetChannel"),
            "transfer_target_channel_uniqueid": _v(message, "TransferTargetUniqueid"),
        }
        self._cel("ATTENDEDTRANSFER", message, at, extra, prefix="OrigTransferer")

    def _hangup_request(self, message: AmiMessage, at: datetime) -> None:
        linkedid = _v(message, "Linkedid") or _v(message, "Uniqueid")
        self._hangup_source.setdefault(linkedid, _v(message, "Channel"))

    def _dial_end(self, message: AmiMessage, at: datetime) -> None:
        if _v(message, "Uniqueid"):
            self._dial_status[_v(message, "Uniqueid")] = _v(message, "DialStatus")

    def _hangup(self, message: AmiMessage, at: datetime) -> None:
        uniqueid = _v(message, "Uniqueid")
        linkedid = _v(message, "Linkedid") or uniqueid
        extra = {
            "hangupcause": int(_v(message, "Cause") or 0),
            "hangupsource": self._hangup_source.get(linkedid, ""),
            "dialstatus": self._dial_status.pop(uniqueid, ""),
        }
        self._cel("HANGUP", message, at, extra)
        self._cel("CHAN_END", message, at)
        self._leave(self._linkedid.pop(uniqueid, linkedid), uniqueid, at)

    # -- queue_log -------------------------------------------------------------------------

    def _queue_log(self, at: datetime, message: AmiMessage, event: str, *data: str) -> None:
        padded = (*data, "", "", "", "", "")[:5]
        agent = _v(message, "MemberName") or "NONE"
        self._put(
            "queue_log", (at, _v(message, "Uniqueid"), _v(message, "Queue"), agent, event, *padded)
        )

    def _join(self, message: AmiMessage, at: datetime) -> None:
        self._queue_log(
            at, message, "ENTERQUEUE", "", _v(message, "CallerIDNum"), _v(message, "Position")
        )

    def _connect(self, message: AmiMessage, at: datetime) -> None:
        self._answered.setdefault(_v(message, "Linkedid"), at)
        self._queue_log(
            at,
            message,
            "CONNECT",
            _v(message, "HoldTime"),
            _v(message, "DestUniqueid"),
            _v(message, "RingTime"),
        )

    def _complete(self, message: AmiMessage, at: datetime) -> None:
        reason = _v(message, "Reason").lower()
        hold, talk = _v(message, "HoldTime"), _v(message, "TalkTime")
        if reason in _COMPLETE:
            self._queue_log(at, message, _COMPLETE[reason], hold, talk, "1")
        else:
            kind = self._transfer.get(_v(message, "Linkedid"), "BLINDTRANSFER")
            self._queue_log(at, message, kind, "", "", hold, talk, "1")

    def _abandon(self, message: AmiMessage, at: datetime) -> None:
        self._queue_log(
            at,
            message,
            "ABANDON",
            _v(message, "Position"),
            _v(message, "OriginalPosition"),
            _v(message, "HoldTime"),
        )

    def _ring_no_answer(self, message: AmiMessage, at: datetime) -> None:
        self._queue_log(at, message, "RINGNOANSWER", _v(message, "RingTime"))

    # -- CDR -------------------------------------------------------------------------------

    def _cdr(self, message: AmiMessage, at: datetime) -> None:
        uniqueid = _v(message, "UniqueID")
        linkedid = self._linkedid.get(uniqueid, uniqueid)
        answered = self._answered.pop(linkedid, None) if _v(message, "AnswerTime") else None
        begun = self._call_start.pop(linkedid, None) or at
        self._put(
            "cdr",
            (
                _v(message, "Source"),
                _v(message, "Destination"),
                _v(message, "DestinationContext"),
                _v(message, "CallerID"),
                _v(message, "Channel"),
                _v(message, "DestinationChannel"),
                _v(message, "LastApplication"),
                _v(message, "LastData"),
                begun,
                answered,
                at,
                int(_v(message, "Duration") or 0),
                int(_v(message, "BillableSeconds") or 0),
                _v(message, "Disposition"),
                _v(message, "AMAFlags"),
                uniqueid,
                linkedid,
            ),
        )
