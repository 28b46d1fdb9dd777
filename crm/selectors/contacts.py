"""Finding contacts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from config.db import roundtrips
from contactcenter.models import Organization
from contactcenter.phones import phone_normalize
from crm.models import Contact, ContactPhone


def contact_lookup_by_phone(*, organization: Organization, phone: str) -> QuerySet[Contact]:
    """The organization's contacts with this number, however it is written (screen pop).

    Raises ApplicationError on ``phone`` when it is not a phone number: an anonymous or
    garbled caller ID should be told apart from "no contact has this number".
    """
    number = phone_normalize(phone, region=organization.default_region, field="phone")
    return (
        Contact.objects.for_organization(organization)
        .filter(phones__number=number)
        .distinct()
        .prefetch_related("phones")
    )


def contacts_with_phones_by_phone(
    *, organization: Organization, phone: str
) -> list[tuple[Contact, list[ContactPhone]]]:
    """``contact_lookup_by_phone``'s contacts, in its order, each with all its phones
    (in theirs): two reads built once per process, in one round trip (the REST lookup,
    on every screen pop of a console: docs/benchmarks.md, REST)."""
    number = phone_normalize(phone, region=organization.default_region, field="phone")
    contacts, phones = roundtrips.read_together(
        _LOOKUP_CONTACTS(organization.pk, number), _LOOKUP_PHONES(organization.pk, number)
    )
    by_contact: dict[int, list[ContactPhone]] = {contact.pk: [] for contact in contacts}
    for contact_phone in phones:
        # The two reads are two statements: a contact added between them is not listed.
        if contact_phone.contact_id in by_contact:
            by_contact[contact_phone.contact_id].append(contact_phone)
    return [(contact, by_contact[contact.pk]) for contact in contacts]


def _with_number(organization_id: int, number: str) -> QuerySet[ContactPhone, Any]:
    phones = ContactPhone.objects.for_organization(organization_id)
    return phones.filter(number=number).values("contact_id")


_LOOKUP_CONTACTS = roundtrips.Shape(
    lambda organization_id, number: Contact.objects.for_organization(organization_id).filter(
        pk__in=_with_number(organization_id, number)
    )
)
# The phones of the live contacts only, as the contacts' own prefetch reads them.
_LOOKUP_PHONES = roundtrips.Shape(
    lambda organization_id, number: ContactPhone.objects.filter(
        contact__in=Contact.objects.for_organization(organization_id).filter(
            pk__in=_with_number(organization_id, number)
        )
    )
)
