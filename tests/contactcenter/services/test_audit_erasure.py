"""The audit trail's erasure scrub: what an entry said of a person, and nothing else."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from contactcenter.models import AuditEntry
from contactcenter.services import audit, audit_erasure
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the guard is a PostgreSQL trigger")
def test_an_erasure_may_scrub_what_an_entry_said_and_nothing_else() -> None:
    org = make_org()
    entry = audit.record(
        action="update",
        organization_id=org.pk,
        object_type="crm.contact",
        object_id=7,
        object_label="Hopper Ltd",
        changes={"company": ["Hopper", "Hopper Ltd"]},
    )
    with transaction.atomic():
        assert (
            audit_erasure.entries_scrub(organization_id=org.pk, objects={"crm.contact": [7]}) == 1
        )
    # The scrub turned its setting off behind it (the test's transaction is still open):
    # the guard is whole again.
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(changes={})
    with transaction.atomic(), connection.cursor() as cursor:
        # With the erasure's setting on, who acted, what and when still cannot change.
        cursor.execute("SET LOCAL contactcenter.audit_erase = 'on'")
        with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="create")
        with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
        cursor.execute("SET LOCAL contactcenter.audit_erase = 'off'")
    entry.refresh_from_db()
    assert (entry.action, entry.object_id) == ("update", "7")
    assert entry.changes == {"company": [audit.REDACTED, audit.REDACTED]}
    assert entry.object_label == "contact #7"
