"""The bridge's side of the backfill: run it after each resync, in the writer's order.

The writer calls it once the batch holding the resync is stored and before anything
received after the snapshot is: the database then holds exactly what AMI delivered up
to the snapshot, which is what the backfill compares the PBX's logs with. Our database
down holds it (as it holds a batch) until it is back; the PBX's log database down or
refused is logged and counted, and the nightly reconciliation repairs what is left.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings

from config.db.work import BROKEN
from telephony.cel.backfill import Backfill, backfill

if TYPE_CHECKING:
    from telephony.ami.bridge import AmiBridge

logger = logging.getLogger(__name__)


async def catch_up(bridge: AmiBridge, until: datetime) -> None:
    """Store what the PBX logged between the last stored event and ``until`` (the PBX's
    clock at the snapshot); read the same window once more ``CEL_BACKFILL_RECHECK_SECONDS``
    later, for rows a buffering log backend wrote late."""
    found = await _read_and_apply(bridge, until, None)
    recheck = float(getattr(settings, "CEL_BACKFILL_RECHECK_SECONDS", 60))
    if found is not None and recheck > 0:
        task = asyncio.create_task(_again(bridge, until, found.since, recheck))
        bridge._pending.add(task)  # kept until done, as the bridge keeps its own
        task.add_done_callback(bridge._pending.discard)


async def _again(bridge: AmiBridge, until: datetime, since: datetime, after: float) -> None:
    await asyncio.sleep(after)
    # The same window from the same start: what the first pass stored is not "stored by
    # the bridge" (it would move the start), and its dedup keys make it change nothing.
    await _read_and_apply(bridge, until, since)


async def _read_and_apply(
    bridge: AmiBridge, until: datetime, since: datetime | None
) -> Backfill | None:
    source = bridge.target.cel
    if source is None:
        return None
    target = bridge.target
    delay = bridge.settings.backoff_initial
    while True:
        try:
            found = await backfill(
                source,
                organization_id=target.organization_id,
                connection_key=target.connection_key,
                until=until,
                is_agent=bridge.translator.is_agent,
                since=since,
            )
            break
        except BROKEN as exc:
            logger.warning(
                "AMI %s: database unavailable for the CEL backfill (%s); retry in %.1fs",
                target.endpoint,
                exc,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, bridge.settings.backoff_max)
        except (psycopg.Error, OSError) as exc:
            # The message names the source's host, never its password (psycopg's own).
            bridge.stats.cel_errors += 1
            logger.warning(
                "AMI %s: cannot read the CEL source %r (%s: %s); the calls of the outage "
                "wait for the reconciliation",
                target.endpoint,
                source,
                type(exc).__name__,
                exc,
            )
            return None
    bridge.stats.cel_backfills += 1
    # In the writer's batch size: a first start may find a day of calls.
    size, applied = bridge.settings.batch_max, 0
    for start in range(0, len(found.facts), size):
        # The writer's own apply, with its retries; facts stored before count as duplicates.
        result = await bridge._apply(found.facts[start : start + size])
        applied += result.applied
    bridge.stats.cel_facts += applied
    bridge.stats.cel_calls_created += found.calls_created
    bridge.stats.cel_calls_completed += found.calls_completed
    logger.info(
        "AMI %s: CEL backfill %s .. %s: %d facts read, %d new, %d calls created, %d completed",
        target.endpoint,
        found.since.isoformat(),
        found.until.isoformat(),
        len(found.facts),
        applied,
        found.calls_created,
        found.calls_completed,
    )
    return found
