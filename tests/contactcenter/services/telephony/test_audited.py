"""The bridge's batch writes its audit entries with one held statement, whatever its size."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from contactcenter import facts as te
from contactcenter.enums import CallDirection
from contactcenter.models import AuditEntry
from contactcenter.models.audit import ActorKind
from contactcenter.services.telephony import telephony_apply
from tests.conftest import Floor
from tests.roundtrip_count import round_trips

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)


def _started(n: int) -> te.CallStarted:
    return te.CallStarted(
        call_key=f"audited.{n}",
        at=T0 + timedelta(seconds=n),
        dedup_key=f"audited-start-{n}",
        direction=CallDirection.INBOUND,
        caller_number="+15557654321",
        caller_name="JOHN SMITH",
        callee_number="+15551230000",
    )


def _ended(n: int) -> te.CallEnded:
    return te.CallEnded(call_key=f"audited.{n}", at=T0 + timedelta(minutes=9), dedup_key=f"e-{n}")


def test_a_large_batch_is_one_statement_of_entries_naming_the_pbx(floor_a: Floor) -> None:
    org = floor_a.org.pk
    calls = 250  # past bulk.SMALL_BATCH, where other rows go by COPY
    postgres = connection.vendor == "postgresql"
    with round_trips() if postgres else contextlib.nullcontext() as wire:
        telephony_apply(
            organization_id=org,
            connection_key="asterisk:1",
            events=[_started(n) for n in range(calls)],
        )
    entries = AuditEntry.objects.filter(organization_id=org, object_type="contactcenter.call")
    assert entries.filter(action="create").count() == calls
    assert set(entries.values_list("actor_kind", "actor_label")) == {(ActorKind.PBX, "asterisk:1")}
    created = entries.first()
    assert created is not None
    # The caller's number and name are personal (AUDIT_REDACTED_FIELDS): left out.
    assert created.changes["caller_number"] == ["[redacted]", "[redacted]"]
    assert created.changes["direction"] == [None, "inbound"]
    if wire is not None:
        audit_statements = [s for s in wire.statements if "contactcenter_auditentry" in s]
        assert len(audit_statements) == 1 and "COPY" not in audit_statements[0]
    # A second batch changing those calls: one "update" each, with what changed.
    telephony_apply(
        organization_id=org, connection_key="asterisk:1", events=[_ended(n) for n in range(3)]
    )
    updates = entries.filter(action="update")
    assert updates.count() == 3
    assert all(u.changes["status"][1] != u.changes["status"][0] for u in updates)
