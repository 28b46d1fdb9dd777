"""The trash (crm/services/trash.py, crm/api/trash.py): deleted contacts and cases leave
every list, lookup and search, admins restore them or delete them for good, the purge
job takes them after TRASH_RETENTION_DAYS; unique rules across trash and restore."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings as live_settings
from django.utils import timezone

from contactcenter.enums import CallStatus
from contactcenter.models import AuditEntry, Call
from contactcenter.selectors import screen_calls
from crm.models import Case, CaseNote, Contact, ContactPhone
from crm.services import case_note_add
from crm.services.dispositions import call_disposition_apply
from crm.services.trash import trash_purge
from crm.tasks import trash_purge as trash_purge_task
from realtime.screens import pop
from tests.conftest import Floor, client_for
from tests.crm.factories import (
    make_case,
    make_contact,
    make_disposition,
    result_ids,
    set_disposition,
)
from tests.factories import make_call

CONTACTS = "/api/v1/contacts/"
CASES = "/api/v1/cases/"
TRASH_CONTACTS = "/api/v1/trash/contacts/"
TRASH_CASES = "/api/v1/trash/cases/"
NUMBER = "+15557654321"

pytestmark = pytest.mark.django_db


def _actions(obj: Contact | Case) -> list[str]:
    entries = AuditEntry.objects.filter(object_id=str(obj.pk), object_type=obj._meta.label_lower)
    return list(entries.order_by("at", "id").values_list("action", flat=True))


def test_a_deleted_contact_leaves_every_list_and_lookup_and_comes_back(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, NUMBER, first_name="Grace", last_name="Hopper")
    supervisor, admin = client_for(floor_a.supervisor), client_for(floor_a.admin)
    assert supervisor.delete(f"{CONTACTS}{contact.pk}/").status_code == 204

    assert result_ids(supervisor.get(CONTACTS)) == set()
    assert result_ids(supervisor.get(CONTACTS, {"search": "Hopper"})) == set()
    assert supervisor.get(f"{CONTACTS}{contact.pk}/").status_code == 404
    assert supervisor.get(f"{CONTACTS}lookup/", {"phone": NUMBER}).json() == []
    # Still there, with its phones, in the trash.
    row = Contact.all_objects.get(pk=contact.pk)
    assert row.deleted_at is not None and row.deleted_by_id == floor_a.supervisor.user_id
    assert ContactPhone.objects.filter(contact=row).count() == 1
    listed = admin.get(TRASH_CONTACTS).json()["results"]
    assert [item["id"] for item in listed] == [contact.pk]
    purge_at = dt.datetime.fromisoformat(listed[0]["purge_at"])
    expected = row.deleted_at + dt.timedelta(days=live_settings.TRASH_RETENTION_DAYS)
    assert abs((purge_at - expected).total_seconds()) < 1

    restored = admin.post(f"{TRASH_CONTACTS}{contact.pk}/restore/")
    assert restored.status_code == 200, restored.content
    assert restored.json()["phones"][0]["number"] == NUMBER
    assert result_ids(supervisor.get(CONTACTS)) == {contact.pk}
    assert [c["id"] for c in supervisor.get(f"{CONTACTS}lookup/", {"phone": NUMBER}).json()] == [
        contact.pk
    ]
    assert admin.get(TRASH_CONTACTS).json()["results"] == []
    assert _actions(contact) == ["create", "trash", "restore"]


def test_only_admins_see_and_work_the_trash_of_their_own_organization(
    floor_a: Floor, floor_b: Floor
) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    client_for(floor_a.admin).delete(f"{CONTACTS}{contact.pk}/")
    for member in (floor_a.supervisor, floor_a.agent_member):
        client = client_for(member)
        assert client.get(TRASH_CONTACTS).status_code == 403
        assert client.post(f"{TRASH_CONTACTS}{contact.pk}/restore/").status_code == 403
    other = client_for(floor_b.admin)
    assert other.get(TRASH_CONTACTS).json()["results"] == []
    assert other.post(f"{TRASH_CONTACTS}{contact.pk}/restore/").status_code == 404
    assert other.delete(f"{TRASH_CONTACTS}{contact.pk}/").status_code == 404
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_a_contact_not_in_the_trash_cannot_be_restored_or_purged_through_it(
    floor_a: Floor,
) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    admin = client_for(floor_a.admin)
    assert admin.post(f"{TRASH_CONTACTS}{contact.pk}/restore/").status_code == 404
    assert admin.delete(f"{TRASH_CONTACTS}{contact.pk}/").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_trashed_contacts_number_blocks_nothing_and_restore_never_conflicts(
    floor_a: Floor,
) -> None:
    old = make_contact(floor_a.org, NUMBER, first_name="Old")
    client = client_for(floor_a.admin)
    client.delete(f"{CONTACTS}{old.pk}/")
    created = client.post(CONTACTS, {"first_name": "New", "phones": [{"number": NUMBER}]})
    assert created.status_code == 201, created.content
    new_id = created.json()["id"]
    lookup = f"{CONTACTS}lookup/"
    assert [c["id"] for c in client.get(lookup, {"phone": NUMBER}).json()] == [new_id]
    # Numbers are not unique between contacts: both are the number's contacts again.
    assert client.post(f"{TRASH_CONTACTS}{old.pk}/restore/").status_code == 200
    assert {c["id"] for c in client.get(lookup, {"phone": NUMBER}).json()} == {old.pk, new_id}


def test_a_deleted_case_keeps_its_number_notes_and_history_and_comes_back(
    floor_a: Floor,
) -> None:
    case = make_case(floor_a.org, title="Broken router")
    case_note_add(case=case, author=None, body="Called back")
    admin = client_for(floor_a.admin)
    export = f"{CASES}export.csv"
    assert b"Broken router" in b"".join(admin.get(export).streaming_content)
    assert admin.delete(f"{CASES}{case.pk}/").status_code == 204
    assert result_ids(admin.get(CASES)) == set()
    assert result_ids(admin.get(CASES, {"search": "router"})) == set()
    assert admin.get(f"{CASES}{case.pk}/notes/").status_code == 404
    assert b"Broken router" not in b"".join(admin.get(export).streaming_content)
    # A new case never takes the trashed one's number.
    newer = admin.post(CASES, {"title": "Another"}).json()
    assert newer["number"] == case.number + 1

    restored = admin.post(f"{TRASH_CASES}{case.pk}/restore/")
    assert restored.status_code == 200, restored.content
    assert (restored.json()["number"], restored.json()["title"]) == (case.number, "Broken router")
    assert [n["body"] for n in admin.get(f"{CASES}{case.pk}/notes/").json()] == ["Called back"]
    assert result_ids(admin.get(CASES)) == {case.pk, newer["id"]}
    assert _actions(case) == ["create", "trash", "restore"]


def test_deleting_for_good_from_the_trash(floor_a: Floor) -> None:
    case = make_case(floor_a.org)
    case_note_add(case=case, author=None, body="x")
    admin = client_for(floor_a.admin)
    admin.delete(f"{CASES}{case.pk}/")
    assert admin.delete(f"{TRASH_CASES}{case.pk}/").status_code == 204
    assert not Case.all_objects.filter(pk=case.pk).exists()
    assert not CaseNote.objects.filter(case_id=case.pk).exists()
    assert _actions(case)[-1] == "delete"


def test_the_purge_job_takes_what_is_past_its_days(floor_a: Floor, settings: Any) -> None:
    settings.TRASH_RETENTION_DAYS = 7
    old_contact, fresh_contact = make_contact(floor_a.org, NUMBER), make_contact(floor_a.org)
    old_case, live_case = make_case(floor_a.org), make_case(floor_a.org)
    admin = client_for(floor_a.admin)
    for url in (
        f"{CONTACTS}{old_contact.pk}/",
        f"{CONTACTS}{fresh_contact.pk}/",
        f"{CASES}{old_case.pk}/",
    ):
        assert admin.delete(url).status_code == 204
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    Contact.all_objects.filter(pk=old_contact.pk).update(deleted_at=eight_days_ago)
    Case.all_objects.filter(pk=old_case.pk).update(deleted_at=eight_days_ago)

    assert trash_purge_task.apply().get() == 2  # the beat's task, as a worker runs it
    assert not Contact.all_objects.filter(pk=old_contact.pk).exists()
    assert not ContactPhone.objects.filter(contact_id=old_contact.pk).exists()
    assert not Case.all_objects.filter(pk=old_case.pk).exists()
    assert Contact.all_objects.filter(pk=fresh_contact.pk).exists()  # 0 days in the trash
    assert Case.objects.filter(pk=live_case.pk).exists()  # never trashed
    assert _actions(old_contact)[-1] == "delete"
    assert trash_purge() == 0
    assert "purge-trash" in live_settings.CELERY_BEAT_SCHEDULE
    assert live_settings.CELERY_BEAT_SCHEDULE["purge-trash"]["task"] == trash_purge_task.name


def test_deleting_twice_is_harmless(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    client = client_for(floor_a.admin)
    assert client.delete(f"{CONTACTS}{contact.pk}/").status_code == 204
    assert client.delete(f"{CONTACTS}{contact.pk}/").status_code == 404
    assert _actions(contact) == ["create", "trash"]


def test_a_calls_disposition_case_in_the_trash_is_still_its_case(
    floor_a: Floor, django_capture_on_commit_callbacks: Any
) -> None:
    complaint = make_disposition(floor_a, requires_case_creation=True)
    call = make_call(floor_a.org, agent=floor_a.agent, caller_number=NUMBER)
    set_disposition(django_capture_on_commit_callbacks, call, complaint, floor_a)
    case = Case.objects.get(source_call=call)
    client_for(floor_a.admin).delete(f"{CASES}{case.pk}/")
    # The rules run again (a task delivered twice): no second case, the trashed one stays.
    result = call_disposition_apply(call_id=call.pk, disposition_id=complaint.pk)
    assert (result.case_id, result.case_created) == (case.pk, False)
    assert Case.all_objects.filter(source_call=call).count() == 1
    assert Case.all_objects.get(pk=case.pk).deleted_at is not None
    # Its contact in the trash: a new disposition's case gets a new contact, not a link.
    Contact.all_objects.filter(pk=case.contact_id).update(deleted_at=timezone.now())
    other = make_call(floor_a.org, agent=floor_a.agent, caller_number=NUMBER)
    other.contact_id = case.contact_id
    other.save()
    set_disposition(django_capture_on_commit_callbacks, other, complaint, floor_a)
    fresh = Case.objects.get(source_call=other)
    assert fresh.contact_id not in (None, case.contact_id)


def test_the_screen_pop_leaves_out_what_is_in_the_trash(floor_a: Floor) -> None:
    kept = make_contact(floor_a.org, NUMBER, first_name="Kept")
    trashed = make_contact(floor_a.org, NUMBER, first_name="Trashed")
    open_case = make_case(floor_a.org, title="Still open", contact=kept)
    trashed_case = make_case(floor_a.org, title="Binned", contact=kept)
    admin = client_for(floor_a.admin)
    admin.delete(f"{CONTACTS}{trashed.pk}/")
    admin.delete(f"{CASES}{trashed_case.pk}/")
    ringing = make_call(
        floor_a.org, agent=floor_a.agent, caller_number=NUMBER, status=CallStatus.RINGING
    )
    calls = list(screen_calls.with_last_entry(Call.objects.filter(pk=ringing.pk)))
    popped = pop.PopBuilder(calls, [floor_a.agent]).pop(calls[0], floor_a.agent, floor_a.admin)
    assert [c.id for c in popped.contacts] == [kept.pk]
    assert [c.id for c in popped.open_cases] == [open_case.pk]


def test_the_django_admin_deletes_to_the_trash_too(floor_a: Floor) -> None:
    from django.test import Client

    from contactcenter.models import User

    contact, case = make_contact(floor_a.org, NUMBER), make_case(floor_a.org)
    root = User.objects.create_superuser("root", "root@example.com", "pw-9f3k2")
    client = Client()
    client.force_login(root)
    for url in (
        f"/admin/crm/contact/{contact.pk}/delete/",
        f"/admin/crm/case/{case.pk}/delete/",
    ):
        assert client.post(url, {"post": "yes"}).status_code == 302
    assert Contact.all_objects.get(pk=contact.pk).deleted_by_id == root.pk
    assert Case.all_objects.get(pk=case.pk).deleted_at is not None
    assert not Contact.objects.filter(pk=contact.pk).exists()
