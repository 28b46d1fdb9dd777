"""The CRM reads behind a screen pop (realtime.screens.pop): the contacts with a
customer's number and their phones, and the open cases a member may see of them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from config.db import roundtrips
from contactcenter.models import Agent, Membership
from crm.enums import OPEN_CASE_STATUSES
from crm.models import Case, ContactPhone
from crm.selectors.cases import case_visibility_q
from crm.selectors.contacts import CONTACTS_WITH_NUMBERS, numbers_matching


def contacts_reads(organization_id: int, numbers: Iterable[str]) -> tuple[roundtrips.Read, ...]:
    """The organization's contacts with one of ``numbers`` (E.164), and all their phones
    (contact id, number), in the models' orders: two reads for one round trip."""
    listed = list(numbers)
    return CONTACTS_WITH_NUMBERS(organization_id, listed), _PHONES(organization_id, listed)


_PHONES = roundtrips.Shape(
    lambda organization_id, numbers: (
        ContactPhone.objects.for_organization(organization_id)
        .filter(contact_id__in=numbers_matching(organization_id, numbers))
        .values_list("contact_id", "number")
    )
)


def open_cases_of_contacts(
    *, agent: Agent, membership: Membership, contact_ids: Iterable[int]
) -> QuerySet[Case]:
    """Open cases of the contacts that this member may see (crm's visibility rule)."""
    return (
        Case.objects.for_organization(agent.organization_id)
        .filter(contact__in=contact_ids, status__in=OPEN_CASE_STATUSES)
        .filter(case_visibility_q(membership=membership, agent=agent))
    )
