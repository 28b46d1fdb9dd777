"""Reading the audit trail: an organization's entries, newest first."""

from __future__ import annotations

from django.db.models import QuerySet

from contactcenter.models import AuditEntry


def audit_entry_list(*, organization_id: int, before: int | None = None) -> QuerySet[AuditEntry]:
    """The organization's entries, newest first (by id, so a page is an index scan and
    needs no count); ``before``: only the entries older than that entry id. Callers may
    narrow it further with the REST list's filters (``api.audit.AuditEntryFilter``)."""
    entries = AuditEntry.objects.for_organization(organization_id).order_by("-id")
    if before is not None:
        entries = entries.filter(id__lt=before)
    return entries
