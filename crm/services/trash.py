"""The trash: contacts and cases go there when deleted, come back when restored, and
go for good after ``TRASH_RETENTION_DAYS`` (the purge job) or when an admin empties
them out of it.

A trashed row keeps everything that hangs off it (a contact's phones; a case's notes,
history and follow-ups) and every link to it, so a restore is exact. While trashed it
is left out of every list, lookup, search, screen pop, export and sweep
(``Trashable.objects``, crm/models.py).

The unique rules hold across the trash without ever refusing a restore: a case number
is never given out again (the counter only grows), phone numbers are not unique between
contacts (a household shares one), and a call's disposition case in the trash still
counts as its case (crm/services/dispositions.py opens no second one).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contactcenter.errors import ApplicationError
from contactcenter.models import User
from contactcenter.services import audit
from crm.models import Case, Contact, Trashable
from crm.services.cases import case_delete
from crm.services.contacts import contact_delete

PURGE_BATCH = 200


def purge_at(row: Trashable) -> dt.datetime | None:
    """When the purge job takes a trashed row away for good."""
    if row.deleted_at is None:
        return None
    return row.deleted_at + dt.timedelta(days=settings.TRASH_RETENTION_DAYS)


def _trash(row: Trashable, *, actor: User | None) -> None:
    if row.deleted_at is not None:
        return  # already there (a repeated DELETE)
    row.deleted_at = timezone.now()
    row.deleted_by = actor
    row.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit.record(
        action="trash",
        organization_id=row.organization_id,
        obj=row,
        details={"purge_at": purge_at(row)},
    )


def _restore(row: Trashable) -> None:
    if row.deleted_at is None:
        raise ApplicationError("This is not in the trash.", code="not_trashed")
    row.deleted_at = None
    row.deleted_by = None
    row.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit.record(action="restore", organization_id=row.organization_id, obj=row)


@transaction.atomic
def contact_trash(*, contact: Contact, actor: User | None) -> None:
    """Move a contact to the trash, with its phones (hidden with it)."""
    _trash(Contact.all_objects.select_for_update().get(pk=contact.pk), actor=actor)


@transaction.atomic
def contact_restore(*, contact: Contact) -> Contact:
    locked: Contact = Contact.all_objects.select_for_update().get(pk=contact.pk)
    _restore(locked)
    return locked


@transaction.atomic
def case_trash(*, case: Case, actor: User | None) -> None:
    """Move a case to the trash, with its notes and history (hidden with it)."""
    _trash(Case.all_objects.select_for_update().get(pk=case.pk), actor=actor)


@transaction.atomic
def case_restore(*, case: Case) -> Case:
    locked: Case = Case.all_objects.select_for_update().get(pk=case.pk)
    _restore(locked)
    return locked


def trash_purge(*, now: dt.datetime | None = None) -> int:
    """Delete for good what has been in the trash longer than ``TRASH_RETENTION_DAYS``
    (each row audited as deleted, by the job); returns how many rows went."""
    before = (now or timezone.now()) - dt.timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    for model in (Case, Contact):
        while True:
            with transaction.atomic():
                due: list[Case | Contact] = list(
                    model.all_objects.select_for_update(skip_locked=True)
                    .filter(deleted_at__lt=before)
                    .order_by("deleted_at", "pk")[:PURGE_BATCH]
                )
                for row in due:
                    _delete_for_good(row)
            purged += len(due)
            if len(due) < PURGE_BATCH:
                break
    return purged


@transaction.atomic
def trashed_delete(*, row: Case | Contact) -> None:
    """Empty one row out of the trash now (an admin's choice), for good."""
    if row.deleted_at is None:
        raise ApplicationError("Only what is in the trash can be deleted for good.")
    _delete_for_good(row)


def _delete_for_good(row: Case | Contact) -> None:
    if isinstance(row, Case):
        case_delete(case=row)
    else:
        contact_delete(contact=row)
