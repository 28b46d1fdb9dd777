from __future__ import annotations

import pytest

from contactcenter.errors import ApplicationError
from crm.models import Contact, ContactPhone
from crm.selectors import contact_lookup_by_phone
from crm.services import contact_create, contact_delete, contact_update
from tests.conftest import Floor
from tests.crm.factories import make_contact
from tests.factories import make_org


def test_create_normalises_and_collapses_duplicate_phones(floor_a: Floor) -> None:
    contact = contact_create(
        organization=floor_a.org,
        first_name=" Ada ",
        tags=["vip", " vip", "", "gold"],
        phones=[
            {"number": "(555) 765-4321", "label": "work"},
            {"number": "+1 555-765-4321", "label": "home"},
            {"number": "+15551230000"},
        ],
    )
    phones = list(contact.phones.values_list("number", "label"))
    assert phones == [("+15557654321", "work"), ("+15551230000", "mobile")]
    assert contact.first_name == "Ada"
    assert contact.tags == ["vip", "gold"]


def test_bad_phone_names_its_position_and_writes_nothing(floor_a: Floor) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        contact_create(
            organization=floor_a.org,
            phones=[{"number": "+15557654321"}, {"number": "nope"}],
        )
    assert excinfo.value.field == "phones.1.number"
    assert not Contact.objects.exists()


def test_update_replaces_phones_keeping_surviving_rows(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, "+15557654321", "+15551230000")
    kept = contact.phones.get(number="+15557654321")
    updated = contact_update(
        contact=contact,
        phones=[{"number": "555 765 4321", "label": "home"}, {"number": "+15550001111"}],
    )
    assert list(updated.phones.values_list("number", flat=True)) == [
        "+15557654321",
        "+15550001111",
    ]
    kept.refresh_from_db()
    assert kept.label == "home"


def test_update_leaves_unpassed_fields(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, "+15557654321", company="Acme", tags=["a"])
    updated = contact_update(contact=contact, last_name="Byron")
    assert (updated.last_name, updated.company, updated.tags) == ("Byron", "Acme", ["a"])
    assert updated.phones.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tags": "vip"}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"custom_fields": ["x"]}, "custom_fields"),
        ({"email": "not-an-email"}, "email"),
        ({"phones": [{"number": "+15557654321", "label": "fax"}]}, "phones.0.label"),
    ],
)
def test_invalid_input_is_an_application_error(floor_a: Floor, kwargs: dict, field: str) -> None:
    contact = make_contact(floor_a.org)
    with pytest.raises(Exception) as excinfo:  # ApplicationError or Django's ValidationError
        contact_update(contact=contact, **kwargs)
    error = excinfo.value
    if isinstance(error, ApplicationError):
        assert error.field == field
    else:
        assert field in error.message_dict  # type: ignore[attr-defined]


def test_delete_removes_phones(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org, "+15557654321")
    contact_delete(contact=contact)
    assert not ContactPhone.objects.exists()


@pytest.mark.parametrize(
    "written", ["+1 555-765-4321", "(555) 765-4321", "001 555 765 4321", "5557654321"]
)
def test_lookup_us_any_form(floor_a: Floor, written: str) -> None:
    ada = make_contact(floor_a.org, "+1 (555) 765-4321")
    make_contact(floor_a.org, "+15551230000", first_name="Other")
    assert list(contact_lookup_by_phone(organization=floor_a.org, phone=written)) == [ada]


@pytest.mark.parametrize("written", ["+44 7700 900123", "07700 900123", "0044 7700 900123"])
def test_lookup_gb_any_form(db: None, written: str) -> None:
    org = make_org("UK Org", default_region="GB")
    stored = make_contact(org, "07700 900123")
    assert stored.phones.get().number == "+447700900123"
    assert list(contact_lookup_by_phone(organization=org, phone=written)) == [stored]


def test_lookup_is_per_organization(floor_a: Floor, floor_b: Floor) -> None:
    make_contact(floor_b.org, "+15557654321")
    assert not contact_lookup_by_phone(organization=floor_a.org, phone="+15557654321").exists()


def test_lookup_returns_each_contact_once(floor_a: Floor) -> None:
    make_contact(floor_a.org, "+15557654321")
    make_contact(floor_a.org, "+15557654321", first_name="Twin")
    assert contact_lookup_by_phone(organization=floor_a.org, phone="5557654321").count() == 2


def test_lookup_refuses_garbage(floor_a: Floor) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        contact_lookup_by_phone(organization=floor_a.org, phone="anonymous")
    assert excinfo.value.field == "phone"
