"""A contact's erasure on request (the right to be forgotten): a separate, audited
action, unlike the trash, and not undone by anything.

What goes: the contact and their phones, their cases (with notes, history and
follow-ups) and the in-app notifications about those cases. What stays: their calls,
anonymized (contactcenter/services/anonymize.py), so queue and agent figures keep
adding up. The audit entry says what was done and how much, and names no one; what
the trail said of them before loses its values (``audit_erasure.entries_scrub``): who did what
to which row, and when, stays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import phonenumbers
from django.db import transaction
from django.db.models import Q, QuerySet

from contactcenter.enums import CallDirection
from contactcenter.models import Call, Recording, Voicemail
from contactcenter.phones import phone_try_normalize
from contactcenter.services import audit, audit_erasure
from contactcenter.services.anonymize import calls_anonymize
from crm.models import Case, CaseNote, Contact, FollowUp, Notification


@dataclass(frozen=True)
class Erased:
    calls_anonymized: int
    cases_deleted: int
    follow_ups_deleted: int
    notifications_deleted: int


def _their_calls(contact: Contact, numbers: set[str]) -> tuple[list[int], set[str]]:
    """The ids of the contact's calls (linked, or with one of their numbers as the
    customer's, in any written form) and the numbers and names as those calls wrote
    them."""
    region = contact.organization.default_region
    near = Q(contact=contact)
    for number in numbers:
        # A cheap filter first (the digits the number ends with), exact matching after.
        digits = str(phonenumbers.parse(number).national_number)
        near |= Q(caller_number__endswith=digits) | Q(callee_number__endswith=digits)
    ids: list[int] = []
    written: set[str] = set()
    candidates = Call.objects.for_organization(contact.organization_id).filter(near)
    for call in candidates.only("pk", "direction", "caller_number", "callee_number", "contact"):
        outbound = call.direction == CallDirection.OUTBOUND
        customer = call.callee_number if outbound else call.caller_number
        if call.contact_id == contact.pk or phone_try_normalize(customer, region=region) in numbers:
            ids.append(call.pk)
            written.add(customer)
            if not outbound and call.caller_name:
                written.add(call.caller_name)
    return ids, written - {""}


# What the trail keeps of an anonymized call: all but what calls_anonymize took away.
CALL_FIELDS_ERASED = frozenset(
    {"caller_number", "caller_name", "callee_number", "contact", "notes", "recording_ref"}
)


def _trail_scrub(
    contact: Contact,
    call_ids: list[int],
    case_ids: list[int],
    follow_ups: QuerySet[FollowUp],
    notifications: QuerySet[Notification],
    identifiers: set[str],
) -> None:
    """The person out of the audit trail too: what it says of their contact, cases,
    notes, follow-ups, notifications and voicemails, every value; of their calls and
    recordings, what the anonymization took away and any text naming them."""
    organization_id = contact.organization_id
    audit_erasure.entries_scrub(
        organization_id=organization_id,
        objects={
            "crm.contact": [contact.pk],
            "crm.case": case_ids,
            "crm.casenote": list(
                CaseNote.objects.filter(case_id__in=case_ids).values_list("pk", flat=True)
            ),
            "crm.followup": list(follow_ups.values_list("pk", flat=True)),
            "crm.notification": list(notifications.values_list("pk", flat=True)),
            "contactcenter.voicemail": list(
                Voicemail.objects.filter(call_id__in=call_ids).values_list("pk", flat=True)
            ),
            "contactcenter.call": call_ids,
            "contactcenter.recording": list(
                Recording.objects.filter(call_id__in=call_ids).values_list("pk", flat=True)
            ),
        },
        fields={"contactcenter.call": CALL_FIELDS_ERASED, "contactcenter.recording": ()},
        identifiers=identifiers,
    )


@transaction.atomic
def contact_erase(*, contact: Contact) -> Erased:
    """Erase a contact, in the trash or not (see the module's doc). Audited as
    ``erase`` with the counts; the entry keeps the contact's id only."""
    contact = (
        Contact.all_objects.select_for_update().select_related("organization").get(pk=contact.pk)
    )
    numbers = set(contact.phones.values_list("number", flat=True))
    call_ids, written = _their_calls(contact, numbers)
    names = {contact.display_name, f"{contact.first_name} {contact.last_name}".strip()}
    identifiers = numbers | written | (names - {""})
    cases = Case.all_objects.filter(organization_id=contact.organization_id, contact=contact)
    case_ids = list(cases.values_list("pk", flat=True))
    follow_ups = FollowUp.objects.filter(Q(contact=contact) | Q(case_id__in=case_ids))
    notifications = Notification.objects.filter(
        organization_id=contact.organization_id, data__case_id__in=case_ids
    )
    # Before the anonymization, whose own entries (and the voicemails it deletes) are not
    # the person's history.
    _trail_scrub(contact, call_ids, case_ids, follow_ups, notifications, identifiers)
    anonymized = calls_anonymize(
        organization_id=contact.organization_id, call_ids=call_ids, identifiers=identifiers
    )
    erased = Erased(
        calls_anonymized=anonymized,
        follow_ups_deleted=follow_ups.delete()[0],
        notifications_deleted=notifications.delete()[0] if case_ids else 0,
        cases_deleted=len(case_ids),
    )
    cases.delete()  # their notes and history with them
    audit.record(
        action="erase",
        organization_id=contact.organization_id,
        object_type=audit.object_type_of(contact),
        object_id=contact.pk,
        object_label=f"Contact #{contact.pk}",
        details=asdict(erased),
    )
    contact.delete()
    return erased
