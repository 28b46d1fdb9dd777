"""The publisher's reads use indexes (PostgreSQL): a render job must not cost a scan of
every call, which at a million calls cost more than all the rest of a job
(docs/benchmarks.md: the figures the code's comments rest on).

The calls table is filled first (the planner scans a small table whatever its
indexes), then the plan must look the customer's numbers up in indexes.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.enums import CallDirection, CallEventType, CallStatus
from contactcenter.models import Call, CallEvent
from contactcenter.selectors import screen_calls
from realtime.screens import changes
from tests.conftest import Floor
from tests.factories import make_call

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans"),
]


def _fill(organization_id: int, calls: int) -> None:
    """``calls`` finished calls of many other customers, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contactcenter_call (organization_id, created_at, updated_at, source,
                external_id, connection_key, direction, status, caller_number, caller_name,
                callee_number, started_at, hold_seconds, end_outcome, hangup_cause_text,
                hangup_by, notes, recording_ref, flags)
            SELECT %s, now(), now(), 'asterisk', 'fill-' || g, '',
                CASE WHEN g %% 5 = 0 THEN 'outbound' ELSE 'inbound' END, 'completed',
                '+1444' || lpad(g::text, 7, '0'), '', '+1333' || lpad(g::text, 7, '0'),
                now() - g * interval '1 minute', 0, '', '', '', '', '', '{}'::jsonb
            FROM generate_series(1, %s) AS g
            """,
            [organization_id, calls],
        )
        cursor.execute("ANALYZE contactcenter_call")


def _plan(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return [row[0].strip() for row in cursor.fetchall()]


def test_a_ringing_calls_messages_read_calls_through_indexes(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = floor_a.org
    _fill(org.pk, 50_000)
    customer = "+15550001111"
    # The customer's earlier calls, one each way, so the pop has history to look up.
    make_call(org, agent=floor_a.agent, caller_number=customer)
    outbound = make_call(org, agent=floor_a.agent, caller_number="1001")
    Call.objects.filter(pk=outbound.pk).update(
        direction=CallDirection.OUTBOUND, callee_number=customer
    )
    call = make_call(org, agent=None, caller_number=customer, status=CallStatus.QUEUED)
    CallEvent.objects.create(
        organization=org,
        call=call,
        type=CallEventType.AGENT_CALLED,
        agent=floor_a.agent,
        occurred_at=timezone.now(),
        dedup_key="offer",
    )
    monkeypatch.setattr("realtime.presence.anyone_online", lambda organization_id: True)
    monkeypatch.setattr("realtime.presence.online_among", lambda organization_id, ids: set(ids))
    with CaptureQueriesContext(connection) as reads:
        messages = changes.publish_changes(
            org.pk, frozenset({call.pk}), frozenset(), frozenset(), None
        )
    assert [message["type"] for _, message in messages] == ["call.ringing"]
    # The other calls of the same customer (screen_calls.related_read): found by number, the
    # caller's or, for an outbound call, the callee's, both through an index. Without
    # one, the planner walks every call of the organization.
    # Prepared (as it runs in the bridge's worker), EXPLAIN EXECUTE shows the generic plan
    # it runs with, for any numbers.
    statements = [s for q in reads.captured_queries for s in q["sql"].split(";\n")]
    prepared = f"EXECUTE {screen_calls._RELATED_CALLS.name}("
    (related,) = [
        s
        for s in statements
        if s.startswith(prepared)
        or ("last_entry" in s and 'callee_number" = ANY(' in s and not s.startswith("PREPARE"))
    ]
    assert related.startswith(prepared) == settings.DATABASE_PREPARED_STATEMENTS
    plan = _plan(related)
    assert not [line for line in plan if "Seq Scan on contactcenter_call " in line], plan
    conditions = " ".join(line for line in plan if "Index Cond:" in line)
    assert "caller_number" in conditions and "callee_number" in conditions, plan
