"""Finding contacts."""

from __future__ import annotations

from django.db.models import QuerySet

from contactcenter.models import Organization
from contactcenter.phones import phone_normalize
from crm.models import Contact


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
