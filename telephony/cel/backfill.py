"""After a reconnect: what the PBX logged while the bridge was away, as facts.

AMI sends nothing again. The window the bridge missed runs from the last event it
stored (read from the database, so a bridge killed and started again knows it too) to
the resync's moment. Every call with a CEL row in it is rebuilt from its rows
(convert.py), and only what AMI did not deliver is kept:

* a call we have: its facts after the last stored event (an answer, a transfer, the
  real hangup of a call the resync closed with an estimate);
* a call we do not have: all its facts, if it ended before the resync (it began and
  ended in the window). One that did not is live, and the resync and the live stream
  have it.

The facts go through the same apply as AMI's (contactcenter.services.telephony), whose
dedup keys make a second run, or a row read twice, change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.db.models import Max

from contactcenter import facts as te
from contactcenter.enums import CallEventType, CallSource
from contactcenter.models import Call, CallEvent
from contactcenter.services.telephony.calls import ENDED_WHILE_AWAY
from telephony.cel import rows
from telephony.cel.convert import call_facts, calls_of
from telephony.cel.source import CelSource, connect

logger = logging.getLogger(__name__)

# How far back a bridge that stored nothing recently looks (a first start, a long outage):
# older gaps are the nightly reconciliation's (telephony/cel/reconcile.py).
MAX_WINDOW = timedelta(hours=24)


@dataclass
class Backfill:
    since: datetime
    until: datetime
    facts: list[te.Fact] = field(default_factory=list)
    calls_created: int = 0
    calls_completed: int = 0


def last_stored(organization_id: int, connection_key: str, until: datetime) -> datetime | None:
    """The time of the last event the bridge stored for this connection before ``until``
    (resync markers apart: they are the bridge's, not the PBX's)."""
    close_old_connections()
    found = (
        CallEvent.objects.filter(
            organization_id=organization_id,
            call__connection_key=connection_key,
            call__source=CallSource.ASTERISK,
            occurred_at__gt=until - MAX_WINDOW,
            occurred_at__lte=until,
        )
        .exclude(type=CallEventType.RESYNCED)
        .aggregate(last=Max("occurred_at"))
    )
    last = found["last"]
    return last if isinstance(last, datetime) else None


def known_calls(organization_id: int, keys: list[str]) -> dict[str, bool]:
    """The calls we have among ``keys``: external id -> closed with an estimated end."""
    close_old_connections()
    return {
        external_id: bool(flags.get(ENDED_WHILE_AWAY))
        for external_id, flags in Call.objects.for_organization(organization_id)
        .filter(source=CallSource.ASTERISK, external_id__in=keys)
        .values_list("external_id", "flags")
    }


def select(
    facts: list[te.CallFact], *, known: bool, ended: bool, since: datetime
) -> list[te.CallFact]:
    """What of one call's facts the bridge did not store. A call we do not have counts
    only if it began in the window: one that began before it and is not ours was folded
    into another (an attended transfer's consultation) or is not a call we record."""
    if known:
        return [f for f in facts if f.at > since]
    return facts if ended and facts and facts[0].at > since else []


async def backfill(
    source: CelSource,
    *,
    organization_id: int,
    connection_key: str,
    until: datetime,
    is_agent: Callable[[str], bool],
    since: datetime | None = None,
) -> Backfill:
    """The facts of (``since``, ``until``], ``since`` by default the last event stored.
    Raises psycopg.Error, OSError or TargetRefused when the source cannot be read,
    django's database errors when ours cannot: the caller decides what to retry."""
    if since is None:
        last = await sync_to_async(last_stored, thread_sensitive=True)(
            organization_id, connection_key, until
        )
        since = last or until - MAX_WINDOW
    result = Backfill(since=since, until=until)
    if since >= until:
        return result
    async with await connect(source) as conn:
        touched = await rows.touched_linkedids(conn, source, since, until)
        history = await rows.read_history(conn, source, touched, until)
    calls = calls_of(history, is_agent)
    have = await sync_to_async(known_calls, thread_sensitive=True)(organization_id, sorted(calls))
    for key, call in calls.items():
        kept = select(call_facts(call), known=key in have, ended=call.ended, since=since)
        if not kept:
            continue
        if key not in have:
            # A consultation folded into the customer's call is not a call of its own.
            result.calls_created += not any(isinstance(f, te.CallMerged) for f in kept)
        elif have[key] and any(isinstance(f, te.CallEnded) for f in kept):
            result.calls_completed += 1
        result.facts.extend(kept)
    result.facts.sort(key=lambda f: f.at)
    return result
