"""The audit service: actors, redaction, the database guard and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.models import ActorKind, AuditEntry, Organization
from contactcenter.services import audit
from contactcenter.services.audit_purge import audit_purge
from tests.factories import make_member, make_org

pytestmark = pytest.mark.django_db


def test_record_takes_the_context_actor_and_redacts_secrets_and_personal_fields() -> None:
    org = make_org()
    member = make_member(org)
    before = {"email": "a@example.com", "sip_password": "old", "name": "A"}
    after = {"email": "b@example.com", "sip_password": "new", "name": "B"}
    with audit.acting(
        audit.Actor.for_user(member.user, request_id="r1", client_address="10.0.0.1")
    ):
        entry = audit.record(
            action="update",
            organization_id=org.pk,
            object_type="contactcenter.agent",
            object_id=7,
            changes=audit.changed(before, after, object_type="contactcenter.agent"),
        )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor_kind == ActorKind.USER
    assert stored.actor_user_id == member.user.pk
    assert (stored.request_id, stored.client_address) == ("r1", "10.0.0.1")
    assert stored.changes == {
        "email": [audit.REDACTED, audit.REDACTED],
        "name": ["A", "B"],
        "sip_password": [audit.REDACTED, audit.REDACTED],
    }


def test_secrets_stay_redacted_whatever_the_configuration() -> None:
    org = make_org()
    with override_settings(AUDIT_REDACTED_FIELDS=[]):
        entry = audit.record(
            action="create",
            organization_id=org.pk,
            object_type="x.y",
            changes={"password": "hunter2", "email": "e@example.com"},
        )
    assert entry.changes == {"password": audit.REDACTED, "email": "e@example.com"}


def test_qualified_names_redact_one_object_type_only() -> None:
    with override_settings(AUDIT_REDACTED_FIELDS=["crm.contact.company"]):
        assert audit.is_redacted("crm.contact", "company")
        assert not audit.is_redacted("contactcenter.organization", "company")


def test_without_a_context_the_actor_is_the_system_and_nesting_restores() -> None:
    org = make_org()
    assert audit.record(action="a", organization_id=org.pk).actor_kind == ActorKind.SYSTEM
    with audit.acting(audit.Actor.pbx("ami:1")):
        with audit.acting(audit.Actor.job("contactcenter.audit_purge")):
            assert audit.current_actor().kind == ActorKind.JOB
        entry = audit.record(action="b", organization_id=org.pk)
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.PBX, "ami:1")
    assert audit.current_actor().kind == ActorKind.SYSTEM


def test_record_many_is_one_insert() -> None:
    org = make_org()
    entries = [audit.Entry(action="update", organization_id=org.pk, object_id=n) for n in range(5)]
    with audit.acting(audit.Actor.pbx("ami:1")), CaptureQueriesContext(connection) as queries:
        audit.record_many(entries)
    assert len(queries.captured_queries) == 1
    assert AuditEntry.objects.filter(organization=org, actor_kind=ActorKind.PBX).count() == 5


def test_changed_ignores_equal_values_and_updated_at() -> None:
    assert audit.changed({"a": 1, "updated_at": 1}, {"a": 1, "updated_at": 2}) == {}
    assert audit.changed({"a": 1}, {"b": 2}) == {"a": [1, None], "b": [None, 2]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the guard is a PostgreSQL trigger")
def test_the_database_refuses_to_change_or_delete_entries() -> None:
    entry = audit.record(action="x", organization_id=make_org().pk)
    for write in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="y"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with (
            pytest.raises(DatabaseError, match="cannot be changed or deleted"),
            transaction.atomic(),
        ):
            write()
    assert AuditEntry.objects.get(pk=entry.pk).action == "x"


def test_purge_keeps_each_organization_its_retention() -> None:
    now = timezone.now()
    short, default = make_org(), make_org()
    Organization.objects.filter(pk=short.pk).update(audit_retention_days=10)
    audit.record_many(
        [
            audit.Entry(action=str(days), organization_id=org.pk, at=now - timedelta(days=days))
            for org in (short, default)
            for days in (5, 30, 400)
        ]
        + [audit.Entry(action="orphan", organization_id=None, at=now - timedelta(days=400))]
    )
    with override_settings(AUDIT_RETENTION_DAYS=365):
        assert audit_purge(now=now) == 4
    left = sorted(
        AuditEntry.objects.exclude(action__in=["create", "purge"]).values_list(
            "organization_id", "action"
        )
    )
    assert left == sorted([(short.pk, "5"), (default.pk, "5"), (default.pk, "30")])
    purges = [
        (p.organization_id, p.details["count"]) for p in AuditEntry.objects.filter(action="purge")
    ]
    assert len(purges) == 3
    assert set(purges) == {(short.pk, 2), (default.pk, 1), (None, 1)}


def test_the_purge_is_a_scheduled_job_that_names_itself() -> None:
    from django.conf import settings

    from config.celery import app
    from contactcenter.tasks import audit_purge_task

    org = make_org()
    at = timezone.now() - timedelta(days=2)
    audit.record_many([audit.Entry(action="old", organization_id=org.pk, at=at)])
    with override_settings(AUDIT_RETENTION_DAYS=1):
        assert audit_purge_task.apply().get() == 1
    assert not AuditEntry.objects.filter(action="old").exists()
    purge = AuditEntry.objects.get(action="purge", organization_id=org.pk)
    assert (purge.actor_kind, purge.actor_label) == (ActorKind.JOB, "contactcenter.audit_purge")
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contactcenter.audit_purge" in schedule and "contactcenter.audit_purge" in app.tasks


def test_personal_values_stay_out_of_entries_by_default() -> None:
    from crm.services import contact_create

    contact = contact_create(
        organization=make_org(),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phones=[{"number": "+15557654321"}],
    )
    entry = AuditEntry.objects.get(action="create", object_type="crm.contact")
    assert entry.object_label == f"contact #{contact.pk}"
    written = str(AuditEntry.objects.filter(pk=entry.pk).values().get())
    for value in ("Ada", "Lovelace", "ada@example.com", "7654321"):
        assert value not in written


def test_a_scheduled_job_is_the_actor_of_what_it_writes() -> None:
    from crm.tasks import cases_mark_overdue
    from tests.crm.factories import make_case

    org = make_org()
    case = make_case(org)
    Case = type(case)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    cases_mark_overdue.delay()  # eager in tests: the task signals run as on a worker
    entry = AuditEntry.objects.get(action="overdue", object_id=str(case.pk))
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.JOB, "crm.cases_mark_overdue")
    assert audit.current_actor().kind == ActorKind.SYSTEM  # reset after the task


@pytest.mark.django_db(transaction=True)
async def test_the_request_is_the_actor_under_asgi_too() -> None:
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from tests.conftest import client_for

    org = await sync_to_async(make_org)()
    admin = await sync_to_async(make_member)(org, "admin")
    token = client_for(admin)._credentials["HTTP_AUTHORIZATION"]
    response = await AsyncClient().post(
        "/api/v1/contacts/",
        {"company": "Acme"},
        content_type="application/json",
        headers={"authorization": token, "x-request-id": "req-from-proxy-1"},
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-from-proxy-1"
    entry = await AuditEntry.objects.aget(object_type="crm.contact", action="create")
    assert (entry.actor_kind, entry.actor_user_id) == (ActorKind.USER, admin.user.pk)
    assert entry.request_id == "req-from-proxy-1"
