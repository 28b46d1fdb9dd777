"""The audit trail's retention: entries older than their organization keeps them are
deleted by the hourly beat job (``contactcenter.audit_purge``), the only delete the
database lets through (the trigger of migration 0012 on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from contactcenter.models import AuditEntry, Organization
from contactcenter.services import audit


def _allow_purge() -> None:
    """Let this transaction's DELETEs past the trigger (SET LOCAL: this one only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL contactcenter.audit_purge = 'on'")


@transaction.atomic
def audit_purge(*, now: datetime | None = None) -> int:
    """Delete the entries past retention: each organization's ``audit_retention_days``
    or ``AUDIT_RETENTION_DAYS``; entries of no organization (a failed sign-in for an
    unknown name) by the default. Each organization that lost entries gets one entry
    saying how many and up to when. Returns how many went."""
    now = now or timezone.now()
    default = settings.AUDIT_RETENTION_DAYS
    _allow_purge()
    custom: dict[int, int] = {
        pk: days
        for pk, days in Organization.objects.filter(audit_retention_days__isnull=False).values_list(
            "pk", "audit_retention_days"
        )
        if days is not None
    }
    expired = AuditEntry.objects.exclude(organization_id__in=list(custom)).filter(
        at__lt=now - timedelta(days=default)
    )
    for organization_id, days in custom.items():
        expired |= AuditEntry.objects.filter(
            organization_id=organization_id, at__lt=now - timedelta(days=days)
        )
    counts = dict(
        expired.order_by()
        .values_list("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    deleted = int(expired._raw_delete(expired.db))
    audit.record_many(
        [
            audit.Entry(
                action="purge",
                organization_id=organization_id,
                object_type="contactcenter.auditentry",
                details={"count": count, "retention_days": custom.get(organization_id, default)},
            )
            for organization_id, count in sorted(counts.items(), key=lambda item: item[0] or 0)
        ]
    )
    return deleted
