"""The lookup's output: ContactOutputSerializer's, its reads in one round trip."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.api.serializers import ContactOutputSerializer
from crm.models import Contact
from crm.selectors import contact_lookup_by_phone
from crm.services import contact_create
from crm.services.contacts import PhoneInput
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

NUMBER = "+15557654321"


def _contacts(floor: Floor, other: Floor) -> None:
    phones: list[PhoneInput] = [
        {"number": NUMBER, "label": "work"},
        {"number": "+15550001111", "label": "home"},
    ]
    contact_create(organization=floor.org, last_name="Zed", phones=phones)
    contact_create(
        organization=floor.org,
        first_name="Ada",
        tags=["vip", "\u2028"],
        custom_fields={"tier": 2, "notes": {"vip": True}},
        phones=[{"number": "(555) 765-4321", "label": "mobile"}],
    )
    contact_create(organization=floor.org, company="Acme", phones=[{"number": NUMBER}])
    trashed = contact_create(organization=floor.org, first_name="Gone", phones=[{"number": NUMBER}])
    Contact.all_objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    contact_create(organization=floor.org, first_name="Else", phones=[{"number": "+15559998888"}])
    contact_create(organization=other.org, first_name="Foreign", phones=[{"number": NUMBER}])


def test_the_lookup_is_what_the_serializer_gives(floor_a: Floor, floor_b: Floor) -> None:
    _contacts(floor_a, floor_b)
    client = client_for(floor_a.agent_member)
    assert client.get("/api/v1/contacts/lookup/", {"phone": NUMBER}).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/contacts/lookup/", {"phone": "(555) 765-4321"})
    assert response.status_code == 200
    expected = ContactOutputSerializer(
        contact_lookup_by_phone(organization=floor_a.org, phone=NUMBER), many=True
    ).data
    assert len(expected) == 3
    assert response.json() == expected
    assert [list(row) for row in response.json()] == [list(row) for row in expected]
    # The user, then the contacts and their phones together: two round trips.
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert queries[1]["sql"].count("EXECUTE cc_shape_") == 2


def test_no_contact_is_an_empty_list(floor_a: Floor, floor_b: Floor) -> None:
    _contacts(floor_a, floor_b)
    client = client_for(floor_a.agent_member)
    assert client.get("/api/v1/contacts/lookup/", {"phone": "+15553332222"}).json() == []
