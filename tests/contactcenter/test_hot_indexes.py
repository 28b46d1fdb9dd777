"""The tables the bridge writes with every batch carry no index that another of their
indexes already begins with: each one is written again on every insert (and on every
update that is not in place), and such an index serves no lookup the longer one does not.
The audit's actor indexes hold only the entries with an actor of that kind."""

from __future__ import annotations

import pytest
from django.db import connection

from contactcenter.models import AuditEntry, Call, CallEvent, CallTransfer

pytestmark = pytest.mark.django_db

HOT = [Call, CallEvent, CallTransfer, AuditEntry]


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"]
        for name, info in found.items()
        if (info["index"] or info["unique"]) and not info["primary_key"]
    }


@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_no_index_is_the_beginning_of_another(model: type) -> None:
    indexes = _indexes(model._meta.db_table)
    covered = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if other != name and len(longer) > len(columns) and longer[: len(columns)] == columns
    ]
    assert covered == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index predicates: PostgreSQL")
def test_the_audits_actor_indexes_leave_out_entries_without_that_actor() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname IN ('audit_org_user', 'audit_org_key')",
            [AuditEntry._meta.db_table],
        )
        definitions = dict(cursor.fetchall())
    assert "WHERE (actor_user_id IS NOT NULL)" in definitions["audit_org_user"]
    assert "WHERE (actor_api_key_id IS NOT NULL)" in definitions["audit_org_key"]
