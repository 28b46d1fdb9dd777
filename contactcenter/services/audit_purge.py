"""The audit trail's retention: entries older than their organization keeps them are
deleted by the hourly beat job (``contactcenter.audit_purge``), the only delete the
database lets through (the trigger of migration 0012 on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contactcenter.models import AuditEntry, Organization


def _allow_purge() -> None:
    """Let this transaction's DELETEs past the trigger (SET LOCAL: this one only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL contactcenter.audit_purge = 'on'")


@transaction.atomic
def audit_purge(*, now: datetime | None = None) -> int:
    """Delete the entries past retention: each organization's ``audit_retention_days``
    or ``AUDIT_RETENTION_DAYS``; entries of no organization (a failed sign-in for an
    unknown name) by the default. Returns how many went."""
    now = now or timezone.now()
    default = settings.AUDIT_RETENTION_DAYS
    _allow_purge()
    deleted = 0
    custom: dict[int, int] = {
        pk: days
        for pk, days in Organization.objects.filter(audit_retention_days__isnull=False).values_list(
            "pk", "audit_retention_days"
        )
        if days is not None
    }
    for organization_id, days in custom.items():
        deleted += _delete(
            AuditEntry.objects.filter(
                organization_id=organization_id, at__lt=now - timedelta(days=days)
            )
        )
    others = AuditEntry.objects.exclude(organization_id__in=list(custom)).filter(
        at__lt=now - timedelta(days=default)
    )
    deleted += _delete(others)
    return deleted


def _delete(queryset: object) -> int:
    # QuerySet._raw_delete: one DELETE statement, no per-row collection (nothing hangs
    # off an entry).
    return int(queryset._raw_delete(queryset.db))  # type: ignore[attr-defined]
