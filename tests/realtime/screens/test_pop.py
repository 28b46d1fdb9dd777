"""realtime.screens.pop: a batch's pops find the contacts crm's own lookup finds, with all their
phones, and read them with the batch's history in one round trip."""

from __future__ import annotations

import pytest
from django.db import connection

from contactcenter.enums import CallStatus, Role
from contactcenter.models import Call, Membership
from contactcenter.selectors import screen_calls
from crm.selectors import contact_lookup_by_phone
from realtime.screens import pop
from tests.conftest import Floor, build_floor
from tests.crm.factories import make_contact
from tests.factories import make_call
from tests.roundtrip_count import round_trips

pytestmark = pytest.mark.django_db

CALLER = "+15557654321"


def test_pops_list_the_contacts_crm_finds_with_all_their_phones(floor_a: Floor) -> None:
    org = floor_a.org
    two_phones = make_contact(org, "+15550001111", "(555) 765-4321", first_name="Two")
    crowd = [make_contact(org, CALLER, first_name=f"Same {n}") for n in range(pop.POP_CONTACTS)]
    crowd.pop().delete()  # as many as a pop holds, the one with two phones among them
    make_contact(org, "+15550002222", first_name="Someone else")
    make_contact(build_floor("Org B").org, CALLER, first_name="Other tenant")
    ringing = make_call(org, agent=floor_a.agent, caller_number=CALLER, status=CallStatus.RINGING)
    other = make_call(org, agent=floor_a.agent, caller_number="+15550002222")
    earlier = make_call(org, agent=floor_a.agent, caller_number=CALLER)
    calls = list(screen_calls.with_last_entry(Call.objects.filter(pk__in=[ringing.pk, other.pk])))
    by_pk = {c.pk: c for c in calls}
    membership = Membership.objects.get(user=floor_a.agent.user)
    builder = pop.PopBuilder(calls, [floor_a.agent])

    with round_trips() as wire:
        popped = builder.pop(by_pk[ringing.pk], floor_a.agent, membership)
        builder.pop(by_pk[other.pk], floor_a.agent, membership)

    expected = list(contact_lookup_by_phone(organization=org, phone=CALLER)[: pop.POP_CONTACTS])
    assert [c.id for c in popped.contacts] == [c.pk for c in expected]
    assert {c.id for c in popped.contacts} == {two_phones.pk, *(c.pk for c in crowd)}
    for view, contact in zip(popped.contacts, expected, strict=True):
        assert view.phones == [phone.number for phone in contact.phones.all()]
    assert next(c for c in popped.contacts if c.id == two_phones.pk).phones == [
        "+15550001111",
        CALLER,
    ]
    assert [c.id for c in popped.last_calls] == [earlier.pk]
    if connection.vendor == "postgresql":
        # The contacts, their phones and who of the batch's agents took or moved calls
        # of its callers: one round trip for the whole batch; then the agent's open
        # cases, and their last calls with the one caller they have history with.
        assert wire.count == 3, wire.statements
        assert wire.statements[0].count(";\n") == 3


def test_the_floor_sees_every_call_of_the_caller(floor_a: Floor) -> None:
    theirs = make_call(floor_a.org, agent=floor_a.other_agent, caller_number=CALLER)
    ringing = make_call(floor_a.org, caller_number=CALLER, status=CallStatus.RINGING)
    calls = list(screen_calls.with_last_entry(Call.objects.filter(pk=ringing.pk)))
    supervisor = floor_a.supervisor
    assert supervisor.role == Role.SUPERVISOR
    popped = pop.PopBuilder(calls, [floor_a.agent]).pop(calls[0], floor_a.agent, supervisor)
    assert [c.id for c in popped.last_calls] == [theirs.pk]
