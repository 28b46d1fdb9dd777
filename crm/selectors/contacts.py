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
        CONTACTS_WITH_NUMBERS(organization.pk, [number]), _LOOKUP_PHONES(organization.pk, [number])
    )
    by_contact: dict[int, list[ContactPhone]] = {contact.pk: [] for contact in contacts}
    for contact_phone in phones:
        # The two reads are two statements: a contact added between them is not listed.
        if contact_phone.contact_id in by_contact:
            by_contact[contact_phone.contact_id].append(contact_phone)
    return [(contact, by_contact[contact.pk]) for contact in contacts]


def numbers_matching(organization_id: int, numbers: list[str]) -> QuerySet[ContactPhone, Any]:
    """The ids of the organization's contacts with one of ``numbers`` (E.164), as a
    subquery."""
    phones = ContactPhone.objects.for_organization(organization_id)
    return phones.filter(number__any=numbers).values("contact_id")


# The organization's contacts with one of the numbers, in the model's order (the REST
# lookup's and the screen pop's).
CONTACTS_WITH_NUMBERS = roundtrips.Shape(
    lambda organization_id, numbers: Contact.objects.for_organization(organization_id).filter(
        pk__in=numbers_matching(organization_id, numbers)
    )
)
# The phones of the live contacts only, as the contacts' own prefetch reads them.
_LOOKUP_PHONES = roundtrips.Shape(
    lambda organization_id, numbers: ContactPhone.objects.filter(
        contact__in=Contact.objects.for_organization(organization_id).filter(
            pk__in=numbers_matching(organization_id, numbers)
        )
    )
)
