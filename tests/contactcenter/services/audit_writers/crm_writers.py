"""crm.services' writers: contacts, cases, categories, dispositions, notifications,
emails, trash, erasure and legal hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from crm.enums import NotificationKind
from crm.models import Case, Contact, Notification, OutboundEmail
from crm.services import (
    cases,
    categories,
    contacts,
    dispositions,
    emails,
    erasure,
    legal_hold,
    notifications,
    overdue,
    trash,
)
from crm.services.voicemails import case_from_voicemail
from tests.contactcenter.services.audit_writers.world import World, Writer, left_voicemail
from tests.factories import make_call


def _notification(w: World) -> Notification:
    return notifications.notification_create(
        organization_id=w.org.pk,
        user_id=w.floor.agent_member.user.pk,
        kind=NotificationKind.CASE_ASSIGNED,
        title="Hello",
    )


def _email(w: World) -> OutboundEmail:
    return emails.email_queue(
        organization_id=w.org.pk,
        user_id=None,
        to_address="a@example.com",
        kind=NotificationKind.CASE_ASSIGNED,
        subject="s",
        body="b",
    )


def _disposed_call(w: World) -> Any:
    call = make_call(w.org, agent=w.floor.agent)
    call.disposition = w.disposition
    call.disposition_set_at = timezone.now()
    call.save(update_fields=["disposition", "disposition_set_at"])
    return call


WRITERS: dict[str, Writer] = {
    "crm.services.legal_hold.case_set_legal_hold": (
        lambda w: legal_hold.case_set_legal_hold(case=w.case, held=True),
        "legal_hold",
    ),
    "crm.services.voicemails.case_from_voicemail": (
        lambda w: case_from_voicemail(
            voicemail=left_voicemail(w), user=None, agent=None, title="t"
        ),
        "create",
    ),
    "crm.services.cases.case_create": (
        lambda w: cases.case_create(organization=w.org, actor=None, title="New"),
        "create",
    ),
    "crm.services.cases.case_update": (
        lambda w: cases.case_update(case=w.case, actor=None, title="Changed"),
        "update",
    ),
    "crm.services.cases.case_delete": (lambda w: cases.case_delete(case=w.case), "delete"),
    "crm.services.cases.case_note_add": (
        lambda w: cases.case_note_add(case=w.case, author=None, body="note"),
        "create",
    ),
    "crm.services.categories.case_category_create": (
        lambda w: categories.case_category_create(organization=w.org, name="Other"),
        "create",
    ),
    "crm.services.categories.case_category_update": (
        lambda w: categories.case_category_update(category=w.category, name="Renamed"),
        "update",
    ),
    "crm.services.categories.case_category_delete": (
        lambda w: categories.case_category_delete(category=w.category),
        "delete",
    ),
    "crm.services.contacts.contact_create": (
        lambda w: contacts.contact_create(organization=w.org, first_name="Bob"),
        "create",
    ),
    "crm.services.contacts.contact_update": (
        lambda w: contacts.contact_update(contact=w.contact, company="Acme"),
        "update",
    ),
    "crm.services.contacts.contact_delete": (
        lambda w: contacts.contact_delete(contact=w.contact),
        "delete",
    ),
    "crm.services.dispositions.call_disposition_apply": (
        lambda w: dispositions.call_disposition_apply(
            call_id=_disposed_call(w).pk, disposition_id=w.disposition.pk
        ),
        "create",
    ),
    "crm.services.emails.email_queue": (_email, "create"),
    "crm.services.emails.email_send": (lambda w: emails.email_send(email_id=_email(w).pk), "send"),
    "crm.services.notifications.notification_create": (_notification, "create"),
    "crm.services.notifications.notification_mark_read": (
        lambda w: notifications.notification_mark_read(notification=_notification(w)),
        "read",
    ),
    "crm.services.notifications.notification_mark_all_read": (
        lambda w: (
            _notification(w),
            notifications.notification_mark_all_read(
                user_id=w.floor.agent_member.user.pk, organization_id=w.org.pk
            ),
        ),
        "read_all",
    ),
    "crm.services.notifications.notification_delete": (
        lambda w: notifications.notification_delete(notification=_notification(w)),
        "delete",
    ),
    "crm.services.notifications.user_notify": (
        lambda w: notifications.user_notify(
            organization_id=w.org.pk,
            user_id=w.floor.agent_member.user.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            title="t",
        ),
        "create",
    ),
    "crm.services.notifications.floor_notify_queue_alert": (
        lambda w: notifications.floor_notify_queue_alert(
            organization_id=w.org.pk,
            alert_id=1,
            queue_id=w.queue.pk,
            queue_name=w.queue.name,
            kind="callers_waiting",
            text="Callers waiting: 1 (above 0)",
        ),
        "create",
    ),
    "crm.services.notifications.notification_preference_set": (
        lambda w: notifications.notification_preference_set(
            organization_id=w.org.pk,
            user_id=w.floor.agent_member.user.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            in_app=False,
        ),
        "update",
    ),
    "crm.services.overdue.case_overdue_mark": (
        lambda w: (
            cases.case_update(case=w.case, actor=None, due_at=timezone.now() - timedelta(hours=1)),
            overdue.case_overdue_mark(),
        ),
        "overdue",
    ),
    "crm.services.trash.contact_trash": (
        lambda w: trash.contact_trash(contact=w.contact, actor=None),
        "trash",
    ),
    "crm.services.trash.contact_restore": (
        lambda w: (
            trash.contact_trash(contact=w.contact, actor=None),
            trash.contact_restore(contact=w.contact),
        ),
        "restore",
    ),
    "crm.services.trash.case_trash": (
        lambda w: trash.case_trash(case=w.case, actor=None),
        "trash",
    ),
    "crm.services.trash.case_restore": (
        lambda w: (trash.case_trash(case=w.case, actor=None), trash.case_restore(case=w.case)),
        "restore",
    ),
    "crm.services.trash.trashed_delete": (
        lambda w: (
            trash.case_trash(case=w.case, actor=None),
            trash.trashed_delete(row=Case.all_objects.get(pk=w.case.pk)),
        ),
        "delete",
    ),
    "crm.services.trash.trash_purge": (
        lambda w: (
            trash.contact_trash(contact=w.contact, actor=None),
            Contact.all_objects.filter(pk=w.contact.pk).update(
                deleted_at=timezone.now() - timedelta(days=5000)
            ),
            trash.trash_purge(),
        ),
        "delete",
    ),
    "crm.services.erasure.contact_erase": (
        lambda w: erasure.contact_erase(contact=w.contact),
        "erase",
    ),
}
