"""A day of a connection's calls compared with the PBX's CDRs, repaired from its CEL.

The backfill after each reconnect covers the outages the bridge saw. This covers the
rest (a bridge down longer than the backfill looks back, a CEL source that was
unreachable at the reconnect, a row written late): once a night, and on demand, for
one day in the organization's time zone:

* a call the CDRs have and we do not is rebuilt from its CEL rows (``missing``);
* a call we closed with an estimated end (``ended_while_disconnected``) gets its real
  end, cause and talk time from the CEL (``estimated``);
* a stored call whose end differs from its CDR's by more than a second, or that no CDR
  knows, is reported, not changed (a CDR's times are whole seconds; ``different``,
  ``unknown_to_pbx``).

What was found is kept as a CallLogReconciliation (one per connection and day, shown
in the admin and as metrics). Repairs go through the same apply as the bridge's facts.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Max

from contactcenter import facts as te
from contactcenter.enums import CallEventType, CallSource
from contactcenter.models import Agent, Call, CallEvent, Organization
from contactcenter.services.telephony import telephony_apply
from contactcenter.services.telephony.calls import ENDED_WHILE_AWAY
from telephony.ami.targets import ENV_CONNECTION, env_organization, record_targets
from telephony.cel import rows
from telephony.cel.backfill import select
from telephony.cel.convert import call_facts, calls_of
from telephony.cel.source import CelSource, connect, source_of_settings
from telephony.models import CallLogReconciliation

logger = logging.getLogger(__name__)

_TOLERANCE = timedelta(seconds=1)
_DETAILS = 50  # ids listed per kind in a report


@dataclass(frozen=True)
class Scope:
    organization_id: int
    connection_key: str
    source: CelSource


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def reconcile_day(scope: Scope, day: date) -> CallLogReconciliation:
    """Compare and repair ``day``; the report is saved (a rerun replaces it)."""
    organization = Organization.objects.get(pk=scope.organization_id)
    start, end = day_bounds(day, ZoneInfo(organization.time_zone))
    report = CallLogReconciliation(
        organization_id=scope.organization_id, connection_key=scope.connection_key, day=day
    )
    try:
        cdrs, history = async_to_sync(_read)(scope.source, start, end)
    except Exception as exc:  # the PBX's database: unreachable, refused, wrong tables
        report.error = f"{type(exc).__name__}: {exc}"[:255]
        logger.warning("reconciliation %s %s: %s", scope.connection_key, day, report.error)
        return _save(report)
    _compare(scope, report, cdrs, history, start, end)
    return _save(report)


async def _read(
    source: CelSource, start: datetime, end: datetime
) -> tuple[list[rows.CdrRow], rows.History]:
    async with await connect(source) as conn:
        cdrs = await rows.read_cdrs(conn, source, start, end)
        linkedids = {c.linkedid for c in cdrs}
        history = await rows.read_history(conn, source, linkedids, end + timedelta(days=1))
    return cdrs, history


def _compare(
    scope: Scope,
    report: CallLogReconciliation,
    cdrs: list[rows.CdrRow],
    history: rows.History,
    start: datetime,
    end: datetime,
) -> None:
    by_call: dict[str, rows.CdrRow] = {}
    for cdr in cdrs:
        seen = by_call.get(cdr.linkedid)
        if seen is None or cdr.end > seen.end:
            by_call[cdr.linkedid] = cdr
    stored = {
        c.external_id: c
        for c in Call.objects.for_organization(scope.organization_id).filter(
            source=CallSource.ASTERISK,
            connection_key=scope.connection_key,
            started_at__gte=start,
            started_at__lt=end,
        )
    }
    stored.update(
        {
            c.external_id: c
            for c in Call.objects.for_organization(scope.organization_id).filter(
                source=CallSource.ASTERISK, external_id__in=list(by_call)
            )
        }
    )
    interfaces = set(
        Agent.objects.for_organization(scope.organization_id).values_list("interface", flat=True)
    )
    calls = calls_of(history, interfaces.__contains__)
    facts: list[te.CallFact] = []
    found: dict[str, list[str]] = {"missing": [], "estimated": [], "different": [], "unknown": []}
    for key, cdr in by_call.items():
        call = stored.get(key)
        rebuilt = calls.get(key)
        if call is None:
            found["missing"].append(key)
            if rebuilt is not None:
                facts += select(call_facts(rebuilt), known=False, ended=rebuilt.ended, since=start)
        elif call.flags.get(ENDED_WHILE_AWAY):
            found["estimated"].append(key)
            if rebuilt is not None:
                facts += select(call_facts(rebuilt), known=True, ended=True, since=_last(call))
        elif call.ended_at is None or abs(call.ended_at - cdr.end) > _TOLERANCE:
            found["different"].append(key)
    found["unknown"] = sorted(
        key for key, call in stored.items() if key not in by_call and call.ended_at is not None
    )
    report.pbx_calls = len(by_call)
    report.stored_calls = len(stored)
    report.missing = len(found["missing"])
    report.estimated = len(found["estimated"])
    report.different = len(found["different"])
    report.unknown_to_pbx = len(found["unknown"])
    report.details = {kind: keys[:_DETAILS] for kind, keys in found.items() if keys}
    if facts:
        report.repaired = _repair(scope, report, sorted(facts, key=lambda f: f.at))


def _repair(scope: Scope, report: CallLogReconciliation, facts: list[te.CallFact]) -> int:
    """Apply the facts; if the database refuses them together (a value it will not
    take), call by call, each refused call reported and the others repaired."""
    apply = functools.partial(
        telephony_apply, organization_id=scope.organization_id, connection_key=scope.connection_key
    )
    try:
        return len(apply(events=facts).call_ids)
    except DatabaseError:
        logger.exception("reconciliation %s: repairs refused; call by call", scope.connection_key)
    by_call: dict[str, list[te.CallFact]] = {}
    for fact in facts:
        by_call.setdefault(fact.call_key, []).append(fact)
    repaired, refused = 0, []
    for key, own in by_call.items():
        try:
            repaired += len(apply(events=own).call_ids)
        except DatabaseError:
            refused.append(key)
    if refused:
        report.details["refused"] = refused[:_DETAILS]
    return repaired


def _last(call: Call) -> datetime:
    """The last event the bridge stored of ``call`` (its resync marker apart)."""
    last = (
        CallEvent.objects.filter(call=call)
        .exclude(type=CallEventType.RESYNCED)
        .aggregate(last=Max("occurred_at"))["last"]
    )
    return last if isinstance(last, datetime) else call.started_at


def _save(report: CallLogReconciliation) -> CallLogReconciliation:
    fields = [
        "pbx_calls",
        "stored_calls",
        "missing",
        "unknown_to_pbx",
        "estimated",
        "different",
        "repaired",
        "error",
        "details",
    ]
    saved, _ = CallLogReconciliation.objects.update_or_create(
        organization_id=report.organization_id,
        connection_key=report.connection_key,
        day=report.day,
        defaults={name: getattr(report, name) for name in fields},
    )
    logger.info(
        "reconciliation %s %s: %d PBX calls, %d stored, %d missing, %d estimated, "
        "%d different, %d unknown to the PBX, %d repaired%s",
        saved.connection_key,
        saved.day,
        saved.pbx_calls,
        saved.stored_calls,
        saved.missing,
        saved.estimated,
        saved.different,
        saved.unknown_to_pbx,
        saved.repaired,
        f" ({saved.error})" if saved.error else "",
    )
    return saved


def scopes() -> list[Scope]:
    """Every connection with a log source: the enabled records that have one, and
    AMI_URL's (CEL_DATABASE_URL)."""
    found = [
        Scope(t.organization_id, t.connection_key, t.cel)
        for t in record_targets()
        if t.cel is not None
    ]
    env_source = source_of_settings(settings)
    if env_source is not None and settings.AMI_URL:
        organization = env_organization(settings.AMI_ORGANIZATION)
        if organization is not None:
            found.append(Scope(organization.pk, ENV_CONNECTION, env_source))
    return found
