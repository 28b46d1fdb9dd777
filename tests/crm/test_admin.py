from __future__ import annotations

import pytest
from django.test import Client

from contactcenter.models import User
from crm.models import Case, CaseHistory, Contact
from tests.conftest import Floor
from tests.crm.factories import make_case, make_category, make_contact


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "contact",
        "contactphone",
        "casecategory",
        "casecounter",
        "case",
        "casehistory",
        "casenote",
        "notification",
    ],
)
def test_pages_render(admin_client: Client, floor_a: Floor, model: str) -> None:
    contact = make_contact(floor_a.org, "+15557654321")
    make_case(floor_a.org, contact=contact, category=make_category(floor_a.org))
    assert admin_client.get(f"/admin/crm/{model}/").status_code == 200
    assert admin_client.get(f"/admin/crm/{model}/", {"q": "x"}).status_code == 200


def _inline(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_contact_phones_are_normalised(admin_client: Client, floor_a: Floor) -> None:
    data = {"organization": str(floor_a.org.pk), "first_name": "Ada", "tags": "[]"}
    data["custom_fields"] = "{}"
    data.update(_inline("phones", [{"number": "(555) 765-4321", "label": "work"}]))
    response = admin_client.post("/admin/crm/contact/add/", data)
    assert response.status_code == 302, response.content
    assert Contact.objects.get().phones.get().number == "+15557654321"

    data.update(_inline("phones", [{"number": "nope", "label": "work"}]))
    response = admin_client.post("/admin/crm/contact/add/", data)
    assert response.status_code == 200  # the form again, with the error
    assert Contact.objects.count() == 1


def _case_form(floor: Floor, **fields: str) -> dict[str, str]:
    data = {"organization": str(floor.org.pk), "status": "open", "priority": "normal"}
    data.update(fields)
    data.update(_inline("notes", []))
    data.update(_inline("history", []))
    return data


def test_case_add_takes_the_next_number(admin_client: Client, floor_a: Floor) -> None:
    make_case(floor_a.org)
    response = admin_client.post("/admin/crm/case/add/", _case_form(floor_a, title="From admin"))
    assert response.status_code == 302, response.content
    assert Case.objects.get(title="From admin").number == 2


def test_case_edit_is_recorded(admin_client: Client, floor_a: Floor) -> None:
    case = make_case(floor_a.org, "Old", due_at=None)  # the form below sends no due date
    form = _case_form(floor_a, title="New")
    del form["organization"]  # read-only on change
    response = admin_client.post(f"/admin/crm/case/{case.pk}/change/", form)
    assert response.status_code == 302, response.content
    row = CaseHistory.objects.get()
    assert (row.field, row.old_value, row.new_value) == ("title", "Old", "New")
    assert row.changed_by is not None and row.changed_by.username == "root"


def test_case_cannot_link_another_organizations_contact(
    admin_client: Client, floor_a: Floor, floor_b: Floor
) -> None:
    foreign = make_contact(floor_b.org)
    form = _case_form(floor_a, title="X", contact=str(foreign.pk))
    response = admin_client.post("/admin/crm/case/add/", form)
    assert response.status_code == 200
    assert not Case.objects.exists()
