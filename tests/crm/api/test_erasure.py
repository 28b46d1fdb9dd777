"""A contact's erasure on request (crm/services/erasure.py): personal data gone, calls
kept anonymized, audited without naming anyone; admins only, own organization only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from contactcenter.enums import CallDirection, CallEventType
from contactcenter.models import AuditEntry, Call, CallEvent
from contactcenter.services.anonymize import ERASED
from contactcenter.services.calls import call_update_notes
from crm.enums import NotificationKind
from crm.models import Case, CaseNote, Contact, ContactPhone, FollowUp, Notification
from crm.services import case_note_add
from tests.conftest import Floor, client_for
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.crm.factories import make_case, make_contact
from tests.factories import make_call

pytestmark = pytest.mark.django_db

NUMBER = "+15557654321"


def _url(contact: Contact) -> str:
    return f"/api/v1/contacts/{contact.pk}/erase/"


def _their_history(floor: Floor) -> dict[str, Any]:
    contact = make_contact(floor.org, NUMBER, first_name="Grace", last_name="Hopper")
    # Three calls: linked, matched by the number as the PBX wrote it, outbound to them.
    linked = make_call(floor.org, agent=floor.agent, caller_number="anonymous")
    linked.contact = contact
    linked.save()
    written = make_call(floor.org, agent=floor.agent, caller_number="5557654321")
    written.caller_name = "GRACE HOPPER"
    written.notes = "Grace asked about her invoice"
    written.recording_ref = "rec/2026/12/call.wav"
    written.save()
    outbound = make_call(floor.org, agent=floor.agent, caller_number="1001")
    Call.objects.filter(pk=outbound.pk).update(
        direction=CallDirection.OUTBOUND, callee_number=NUMBER
    )
    stranger = make_call(floor.org, agent=floor.agent, caller_number="+15550001111")
    event = CallEvent.objects.create(
        organization=floor.org,
        call=written,
        type=CallEventType.AGENT_CALLED,
        occurred_at=timezone.now(),
        details={"caller": "5557654321", "name": "GRACE HOPPER", "queue": "support"},
        dedup_key="erasure-test-1",
    )
    case = make_case(floor.org, title="Invoice dispute", contact=contact)
    case_note_add(case=case, author=None, body="She called twice")
    follow_up = FollowUp.objects.create(
        organization=floor.org, contact=contact, case=case, due_at=timezone.now()
    )
    notification = Notification.objects.create(
        organization=floor.org,
        user=floor.agent_member.user,
        kind=NotificationKind.CASE_ASSIGNED,
        title="Invoice dispute",
        data={"case_id": case.pk},
    )
    return {
        "contact": contact,
        "calls": [linked, written, outbound],
        "stranger": stranger,
        "event": event,
        "case": case,
        "follow_up": follow_up,
        "notification": notification,
    }


def test_erasure_removes_the_person_and_keeps_their_calls_anonymized(floor_a: Floor) -> None:
    history = _their_history(floor_a)
    contact = history["contact"]
    assert isinstance(contact, Contact)
    answer = client_for(floor_a.admin).post(_url(contact))
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "calls_anonymized": 3,
        "cases_deleted": 1,
        "follow_ups_deleted": 1,
        "notifications_deleted": 1,
    }
    assert not Contact.all_objects.filter(pk=contact.pk).exists()
    assert not ContactPhone.objects.filter(number=NUMBER).exists()
    assert not Case.all_objects.filter(title="Invoice dispute").exists()
    assert not CaseNote.objects.filter(body="She called twice").exists()
    assert not FollowUp.objects.exists()
    assert not Notification.objects.filter(title="Invoice dispute").exists()

    calls = Call.objects.filter(pk__in=[c.pk for c in history["calls"]])
    assert calls.count() == 3  # kept: the figures still add up
    for call in calls:
        assert call.contact_id is None and call.flags.get(ERASED) is True
        assert (call.caller_name, call.notes, call.recording_ref) == ("", "", "")
        customer = call.callee_number if call.direction == "outbound" else call.caller_number
        assert customer == ""
        assert call.agent_id == floor_a.agent.pk and call.started_at is not None
    event = CallEvent.objects.get(pk=history["event"].pk)
    assert event.details == {"caller": "", "name": "", "queue": "support"}
    stranger = Call.objects.get(pk=history["stranger"].pk)
    assert stranger.caller_number == "+15550001111" and not stranger.flags

    (entry,) = AuditEntry.objects.filter(action="erase")
    assert (entry.object_type, entry.object_id) == ("crm.contact", str(contact.pk))
    assert entry.organization_id == floor_a.org.pk
    assert entry.actor_user_id == floor_a.admin.user_id
    written = json.dumps([entry.object_label, entry.changes, entry.details])
    for personal in ("Grace", "Hopper", "GRACE", "555", "Invoice"):
        assert personal not in written


def test_a_contact_in_the_trash_can_be_erased(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    admin = client_for(floor_a.admin)
    admin.delete(f"/api/v1/contacts/{contact.pk}/")
    assert admin.post(_url(contact)).status_code == 200
    assert not Contact.all_objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_only_admins_erase(floor_a: Floor, role: str) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    member = floor_a.supervisor if role == "supervisor" else floor_a.agent_member
    assert client_for(member).post(_url(contact)).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_another_organizations_contact_cannot_be_erased(floor_a: Floor, floor_b: Floor) -> None:
    contact = make_contact(floor_a.org, NUMBER)
    assert client_for(floor_b.admin).post(_url(contact)).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_the_audit_trail_keeps_nothing_of_the_person(floor_a: Floor) -> None:
    # Personal values the default redaction does not cover (company, tags, custom
    # fields, a case's title and description, a call's notes, a voicemail's number, a
    # search): what the trail said of them before the erasure loses them, not who did
    # what when.
    admin = client_for(floor_a.admin)
    created = admin.post(
        "/api/v1/contacts/",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "company": "Hopper Consulting",
            "tags": ["cobol-fan"],
            "custom_fields": {"address": "12 Elm Street"},
            "phones": [{"number": NUMBER}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    admin.patch(f"/api/v1/contacts/{contact_id}/", {"company": "Hopper Ltd"}, format="json")
    case = admin.post(
        "/api/v1/cases/",
        {"title": "Hopper invoice", "description": "At 12 Elm Street", "contact": contact_id},
        format="json",
    )
    assert case.status_code == 201, case.content
    voicemail = leave_voicemail(queue_with(floor_a.org), caller=NUMBER)
    assert voicemail.call_id is not None
    call = Call.objects.get(pk=voicemail.call_id)
    call_update_notes(call=call, notes="Asked about 12 Elm Street", actor=None)
    search = admin.get("/api/v1/cases/export.csv", {"search": "Hopper"})
    assert search.status_code == 200
    b"".join(search.streaming_content)
    before = AuditEntry.objects.filter(organization=floor_a.org).count()
    trail = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "Elm Street" in trail and "Hopper" in trail  # the test shows something

    assert admin.post(f"/api/v1/contacts/{contact_id}/erase/").status_code == 200
    entries = AuditEntry.objects.filter(organization=floor_a.org)
    trail = json.dumps(list(entries.values()), default=str)
    for personal in ("Grace", "Hopper", "cobol", "Elm Street", "7654321"):
        assert personal not in trail, personal
    # Who did what to which row, and when, stays.
    kept = entries.filter(object_type="crm.contact", object_id=str(contact_id))
    assert list(kept.order_by("id").values_list("action", flat=True)) == [
        "create",
        "update",
        "erase",
    ]
    update = kept.get(action="update")
    assert update.changes == {"company": ["[redacted]", "[redacted]"]}
    assert update.actor_user_id == floor_a.admin.user_id
    notes = entries.get(object_type="contactcenter.call", changes__has_key="notes")
    assert notes.object_id == str(call.pk) and notes.changes == {
        "notes": ["[redacted]", "[redacted]"]
    }
    assert entries.count() > before
