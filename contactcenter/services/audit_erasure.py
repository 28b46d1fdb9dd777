"""A person taken out of the audit trail (a contact's erasure: crm/services/erasure.py).

The trail is written once (contactcenter/services/audit.py) and, on PostgreSQL, a
trigger refuses any change to an entry (migration 0026) but this one: what an entry
said of the person (the values of its changes and details, and a label that names
them) is scrubbed, while who acted, when, on what and from where stay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from django.apps import apps
from django.db import connection

from contactcenter.models.audit import AuditEntry
from contactcenter.services.audit import REDACTED


def _scrubbed(value: Any, identifiers: Collection[str] | None) -> Any:
    """``value`` with every leaf redacted (``identifiers`` None), or only the texts that
    hold one of ``identifiers``; None stays None, keys stay."""
    if isinstance(value, Mapping):
        return {key: _scrubbed(item, identifiers) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, identifiers) for item in value]
    if value is None or value == REDACTED:
        return value
    if identifiers is None:
        return REDACTED
    if isinstance(value, str) and any(i in value for i in identifiers):
        return REDACTED
    return value


def _scrub_fields(
    values: Mapping[str, Any], fields: Collection[str] | None, identifiers: Collection[str]
) -> dict[str, Any]:
    return {
        name: _scrubbed(value, None if fields is None or name in fields else identifiers)
        for name, value in values.items()
    }


def entries_scrub(
    *,
    organization_id: int,
    objects: Mapping[str, Collection[int]],
    fields: Mapping[str, Collection[str]] | None = None,
    identifiers: Collection[str] = (),
) -> int:
    """Take a person out of what the organization's trail says of ``objects``
    (``{object_type: ids}``): a contact's erasure, in its transaction.

    The entries of an object type not in ``fields`` lose every value of their changes
    and details (field names stay: what changed, not to what) and are named by kind and
    id; those of a type in ``fields`` lose those fields' values and any text holding
    one of ``identifiers`` (the person's numbers and names as written). Who acted, when,
    on what and from where stay: on PostgreSQL the trigger lets nothing else of an entry
    change, and only while this function has ``contactcenter.audit_erase`` set
    (migration 0026). Returns how many entries changed.
    """
    named = frozenset(i for i in identifiers if i.strip())
    changed_rows: list[AuditEntry] = []
    for object_type, ids in objects.items():
        only = None if fields is None else fields.get(object_type)
        entries = AuditEntry.objects.filter(
            organization_id=organization_id,
            object_type=object_type,
            object_id__in=[str(pk) for pk in ids],
        )
        for entry in entries.order_by("pk"):
            changes = _scrub_fields(entry.changes, only, named)
            details = _scrub_fields(entry.details, only, named)
            label = entry.object_label
            if only is None or any(i in label for i in named):
                label = f"{_verbose_name(object_type)} #{entry.object_id}"[:200]
            if (changes, details, label) != (entry.changes, entry.details, entry.object_label):
                entry.changes, entry.details, entry.object_label = changes, details, label
                changed_rows.append(entry)
    with _erasing():
        AuditEntry.objects.bulk_update(changed_rows, ["changes", "details", "object_label"])
    return len(changed_rows)


@contextlib.contextmanager
def _erasing() -> Iterator[None]:
    """The trigger's door open for these statements only: SET LOCAL would otherwise last
    to the end of the outermost transaction, past this erasure. (A failed statement
    rolls the caller's atomic block back, and the SET with it.)"""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL contactcenter.audit_erase = 'on'")
        yield
        cursor.execute("SET LOCAL contactcenter.audit_erase = 'off'")


def _verbose_name(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
