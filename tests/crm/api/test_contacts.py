from __future__ import annotations

import pytest

from contactcenter.enums import Role
from crm.models import Contact
from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, make_contact, result_ids
from tests.factories import make_member, make_org

URL = "/api/v1/contacts/"


def _member(floor: Floor, role: str):  # type: ignore[no-untyped-def]
    return {"admin": floor.admin, "supervisor": floor.supervisor, "agent": floor.agent_member}[role]


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_every_role_reads_and_writes(floor_a: Floor, role: str) -> None:
    client = client_for(_member(floor_a, role))
    created = client.post(
        URL,
        {
            "first_name": "Ada",
            "company": "Acme",
            "tags": ["vip"],
            "custom_fields": {"tier": 2, "notes": {"vip": True}},
            "phones": [{"number": "(555) 765-4321", "label": "work"}],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["display_name"] == "Ada"
    assert body["phones"] == [
        {"id": body["phones"][0]["id"], "number": "+15557654321", "label": "work"}
    ]
    assert body["custom_fields"] == {"tier": 2, "notes": {"vip": True}}
    assert result_ids(client.get(URL)) == {body["id"]}
    patched = client.patch(f"{URL}{body['id']}/", {"phones": [], "last_name": "Lovelace"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["phones"], patched.json()["display_name"]) == ([], "Ada Lovelace")
    assert patched.json()["tags"] == ["vip"]


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("supervisor", 204), ("admin", 204)])
def test_delete_is_for_the_floor(floor_a: Floor, role: str, status: int) -> None:
    contact = make_contact(floor_a.org)
    response = client_for(_member(floor_a, role)).delete(f"{URL}{contact.pk}/")
    assert response.status_code == status
    assert Contact.objects.filter(pk=contact.pk).exists() == (status != 204)


def test_put_is_not_offered(floor_a: Floor) -> None:
    contact = make_contact(floor_a.org)
    response = client_for(floor_a.admin).put(f"{URL}{contact.pk}/", {"first_name": "X"})
    assert response.status_code == 405


@pytest.mark.parametrize(
    "written", ["+1 555-765-4321", "(555) 765-4321", "001 555 765 4321", "555.765.4321"]
)
def test_lookup_any_form(floor_a: Floor, written: str) -> None:
    ada = make_contact(floor_a.org, "+15557654321")
    make_contact(floor_a.org, "+15551230000")
    response = client_for(floor_a.agent_member).get(f"{URL}lookup/", {"phone": written})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [ada.pk]


def test_lookup_gb_organization(db: None) -> None:
    org = make_org("UK", default_region="GB")
    contact = make_contact(org, "+44 7700 900123")
    client = client_for(make_member(org, Role.AGENT))
    for written in ("+44 7700 900123", "07700 900123"):
        response = client.get(f"{URL}lookup/", {"phone": written})
        assert [row["id"] for row in response.json()] == [contact.pk]


@pytest.mark.parametrize("params", [{}, {"phone": ""}, {"phone": "anonymous"}, {"phone": "123"}])
def test_lookup_needs_a_phone(floor_a: Floor, params: dict) -> None:
    response = client_for(floor_a.agent_member).get(f"{URL}lookup/", params)
    assert response.status_code == 400
    assert error_attrs(response) == ["phone"]


def test_filters_search_and_ordering(floor_a: Floor) -> None:
    ada = make_contact(
        floor_a.org, "+15557654321", last_name="A", company="Acme", tags=["vip"], email="a@x.io"
    )
    bob = make_contact(floor_a.org, "+15551230000", last_name="B", company="Beta", tags=["vip-x"])
    client = client_for(floor_a.agent_member)
    assert result_ids(client.get(URL, {"tag": "vip"})) == {ada.pk}
    assert result_ids(client.get(URL, {"company": "bet"})) == {bob.pk}
    assert result_ids(client.get(URL, {"email": "A@X.IO"})) == {ada.pk}
    assert result_ids(client.get(URL, {"search": "1230000"})) == {bob.pk}
    assert result_ids(client.get(URL, {"search": "acme"})) == {ada.pk}
    ordered = client.get(URL, {"ordering": "-last_name"}).json()["results"]
    assert [row["id"] for row in ordered] == [bob.pk, ada.pk]


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"tags": "vip"}, "tags"),
        ({"tags": [{"a": 1}]}, "tags.0"),
        ({"custom_fields": ["x"]}, "custom_fields"),
        ({"custom_fields": "x"}, "custom_fields"),
        ({"email": "nope"}, "email"),
        ({"first_name": ["x"]}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"phones": "+15557654321"}, "phones"),
        ({"phones": [{"label": "work"}]}, "phones.0.number"),
        ({"phones": [{"number": "+15557654321", "label": "fax"}]}, "phones.0.label"),
        ({"phones": [{"number": "+15557654321"}, {"number": "nope"}]}, "phones.1.number"),
        ({"phones": [{"number": ["+15557654321"]}]}, "phones.0.number"),
    ],
)
def test_invalid_payloads_name_the_field(floor_a: Floor, payload: dict, attr: str) -> None:
    client = client_for(floor_a.agent_member)
    response = client.post(URL, payload)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert error_attrs(response) == [attr]
    contact = make_contact(floor_a.org)
    response = client.patch(f"{URL}{contact.pk}/", payload)
    assert response.status_code == 400
    assert error_attrs(response) == [attr]
    assert Contact.objects.count() == 1


def test_non_object_body_is_a_400(floor_a: Floor) -> None:
    response = client_for(floor_a.agent_member).post(URL, ["x"])
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"first_name": "  ", "last_name": "", "email": " "},
        {"tags": ["vip"], "custom_fields": {"tier": 1}},
        {"phones": []},
    ],
)
def test_a_contact_with_nothing_to_know_them_by_is_refused(floor_a: Floor, body: dict) -> None:
    # POST {} created an empty "Contact #7".
    response = client_for(floor_a.agent_member).post(URL, body)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert error["code"] == "required"
    for needed in ("first_name", "last_name", "company", "phones", "email"):
        assert needed in error["detail"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"last_name": "Lovelace"},
        {"company": "Acme"},
        {"email": "ada@example.com"},
        {"phones": [{"number": "+15557654321"}]},
    ],
)
def test_a_name_a_phone_or_an_email_is_enough(floor_a: Floor, body: dict) -> None:
    response = client_for(floor_a.agent_member).post(URL, body)
    assert response.status_code == 201, response.content


def test_a_contact_cannot_be_emptied_by_an_update(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    contact = make_contact(floor_a.org, "+15557654321", last_name="")
    emptied = client.patch(f"{URL}{contact.pk}/", {"first_name": "", "phones": []})
    assert emptied.status_code == 400, emptied.content
    assert emptied.json()["errors"][0]["code"] == "required"
    assert client.patch(f"{URL}{contact.pk}/", {"first_name": ""}).status_code == 200  # a phone
    assert client.patch(f"{URL}{contact.pk}/", {"phones": []}).status_code == 400
