"""A PBX that stops ends the calls it carried.

The demo's simulated PBX lives and dies with the demo: when it stops (Ctrl-C on
``./scripts/run``), its calls are cut, and the bridge, stopped first, never hears
their hangups. Without this they stayed open in the database (``queued``, ``in
progress``) until the stale-call sweep, hours later: on the wallboard's waiting count,
on consoles, in reports.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallSource, HangupParty
from contactcenter.models import Call
from contactcenter.services.telephony.apply import telephony_apply
from contactcenter.services.telephony.derive import is_answered
from contactcenter.transitions import ACTIVE_CALL_STATUSES


def calls_end_for_stopped_pbx(
    *,
    organization_id: int,
    connection_key: str,
    reason: str,
    source: str = CallSource.ASTERISK,
    at: datetime | None = None,
) -> int:
    """End every call of this PBX connection still open, as the PBX would have: one
    ``CallEnded`` each (hung up by the system, ``reason`` as the cause text), applied by
    ``telephony_apply`` like any hangup, so consoles and wallboards are told after
    commit and a second run changes nothing. A call never answered ends ``failed``:
    it is counted as offered, not as an abandon the caller never made. Call only once
    the connection's bridge has stopped. Returns how many calls were ended."""
    at = at or timezone.now()
    open_calls = (
        Call.objects.for_organization(organization_id)
        .filter(source=source, connection_key=connection_key, status__in=ACTIVE_CALL_STATUSES)
        .order_by("pk")
    )
    facts: list[te.Fact] = [
        te.CallEnded(
            call_key=call.external_id,
            at=max(at, call.started_at),
            dedup_key=f"pbx-stopped:{connection_key}:{call.external_id}",
            source=CallSource(source),
            cause_text=reason,
            outcome=None if is_answered(call) else "failed",
            hangup_by=HangupParty.SYSTEM,
        )
        for call in open_calls
    ]
    if facts:
        telephony_apply(
            organization_id=organization_id, connection_key=connection_key, events=facts
        )
    return len(facts)
