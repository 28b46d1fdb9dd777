"""A member of organization A never reads, changes or links a row of organization B."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from crm.enums import NotificationKind
from crm.models import Case, CaseCategory, Contact, Notification
from crm.services import notification_create
from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, make_case, make_category, make_contact, result_ids
from tests.factories import make_call


@pytest.fixture
def rows_b(floor_b: Floor) -> dict[str, Any]:
    return {
        "contacts": make_contact(floor_b.org, "+15557654321"),
        "cases": make_case(floor_b.org),
        "case-categories": make_category(floor_b.org),
        "notifications": notification_create(
            organization_id=floor_b.org.pk,
            user_id=floor_b.admin.user_id,
            kind=NotificationKind.SYSTEM,
            title="B only",
        ),
    }


@pytest.fixture
def admin_a(floor_a: Floor) -> APIClient:
    return client_for(floor_a.admin)


@pytest.mark.parametrize("resource", ["contacts", "cases", "case-categories", "notifications"])
def test_foreign_rows_are_404_and_never_listed(
    admin_a: APIClient, rows_b: dict[str, Any], resource: str
) -> None:
    url = f"/api/v1/{resource}/"
    row = rows_b[resource]
    assert result_ids(admin_a.get(url)) == set()
    assert admin_a.get(f"{url}{row.pk}/").status_code == 404
    assert admin_a.delete(f"{url}{row.pk}/").status_code == 404
    if resource != "notifications":
        assert admin_a.patch(f"{url}{row.pk}/", {"name": "x", "title": "x"}).status_code == 404


def test_foreign_sub_resources_are_404(admin_a: APIClient, rows_b: dict[str, Any]) -> None:
    case_url = f"/api/v1/cases/{rows_b['cases'].pk}/"
    assert admin_a.get(f"{case_url}notes/").status_code == 404
    assert admin_a.post(f"{case_url}notes/", {"body": "x"}).status_code == 404
    assert admin_a.get(f"{case_url}history/").status_code == 404
    read = admin_a.post(f"/api/v1/notifications/{rows_b['notifications'].pk}/read/")
    assert read.status_code == 404
    assert admin_a.post("/api/v1/notifications/read-all/").json() == {"updated": 0}
    assert Notification.objects.get().read_at is None


def test_lookup_never_finds_foreign_contacts(admin_a: APIClient, rows_b: dict[str, Any]) -> None:
    response = admin_a.get("/api/v1/contacts/lookup/", {"phone": "+15557654321"})
    assert response.status_code == 200
    assert response.json() == []


def test_filters_by_foreign_ids_find_nothing(
    admin_a: APIClient, floor_b: Floor, rows_b: dict[str, Any]
) -> None:
    # 200 and empty, exactly as for an id that exists nowhere: no existence oracle.
    for params in (
        {"contact": rows_b["contacts"].pk},
        {"category": rows_b["case-categories"].pk},
        {"assigned_agent": floor_b.agent.pk},
    ):
        assert result_ids(admin_a.get("/api/v1/cases/", params)) == set()


@pytest.mark.parametrize("field", ["contact", "category", "assigned_agent", "source_call"])
def test_cannot_link_foreign_rows_to_a_case(
    floor_a: Floor, floor_b: Floor, rows_b: dict[str, Any], field: str
) -> None:
    foreign_ids = {
        "contact": rows_b["contacts"].pk,
        "category": rows_b["case-categories"].pk,
        "assigned_agent": floor_b.agent.pk,
        "source_call": make_call(floor_b.org).pk,
    }
    client = client_for(floor_a.supervisor)
    created = client.post("/api/v1/cases/", {"title": "T", field: foreign_ids[field]})
    assert created.status_code == 400
    assert error_attrs(created) == [field]
    own_case = make_case(floor_a.org)
    patched = client.patch(f"/api/v1/cases/{own_case.pk}/", {field: foreign_ids[field]})
    assert patched.status_code == 400
    assert error_attrs(patched) == [field]
    assert Case.objects.filter(organization=floor_a.org).count() == 1


def test_cannot_parent_a_category_under_a_foreign_one(
    admin_a: APIClient, rows_b: dict[str, Any]
) -> None:
    foreign = rows_b["case-categories"].pk
    response = admin_a.post("/api/v1/case-categories/", {"name": "X", "parent": foreign})
    assert response.status_code == 400
    assert error_attrs(response) == ["parent"]
    assert CaseCategory.objects.count() == 1


def test_writes_land_in_the_callers_organization(floor_a: Floor, admin_a: APIClient) -> None:
    # An organization in the payload is not an input: it is ignored.
    response = admin_a.post("/api/v1/contacts/", {"first_name": "A", "organization": 999})
    assert response.status_code == 201
    assert Contact.objects.get().organization_id == floor_a.org.pk


def test_anonymous_is_refused() -> None:
    for resource in ("contacts", "cases", "case-categories", "notifications"):
        assert APIClient().get(f"/api/v1/{resource}/").status_code in (401, 403)
