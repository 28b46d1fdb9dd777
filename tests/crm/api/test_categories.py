from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, make_category, result_ids

URL = "/api/v1/case-categories/"


def _member(floor: Floor, role: str) -> Any:
    return {"admin": floor.admin, "supervisor": floor.supervisor, "agent": floor.agent_member}[role]


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_every_role_reads(floor_a: Floor, role: str) -> None:
    billing = make_category(floor_a.org)
    client = client_for(_member(floor_a, role))
    assert result_ids(client.get(URL)) == {billing.pk}
    assert client.get(f"{URL}{billing.pk}/").json() == {
        "id": billing.pk,
        "name": "Billing",
        "parent": None,
    }


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_admins_write(floor_a: Floor, role: str) -> None:
    billing = make_category(floor_a.org)
    client = client_for(_member(floor_a, role))
    assert client.post(URL, {"name": "New"}).status_code == 403
    assert client.patch(f"{URL}{billing.pk}/", {"name": "X"}).status_code == 403
    assert client.delete(f"{URL}{billing.pk}/").status_code == 403


def test_admin_builds_the_tree(floor_a: Floor) -> None:
    client = client_for(floor_a.admin)
    root = client.post(URL, {"name": "Billing"}).json()
    child = client.post(URL, {"name": "Refunds", "parent": root["id"]})
    assert child.status_code == 201, child.content
    assert child.json()["parent"] == root["id"]
    assert result_ids(client.get(URL, {"root": "true"})) == {root["id"]}
    assert result_ids(client.get(URL, {"parent": root["id"]})) == {child.json()["id"]}
    cycle = client.patch(f"{URL}{root['id']}/", {"parent": child.json()["id"]})
    assert cycle.status_code == 400
    assert error_attrs(cycle) == ["parent"]
    blocked = client.delete(f"{URL}{root['id']}/")
    assert blocked.status_code == 409
    assert client.delete(f"{URL}{child.json()['id']}/").status_code == 204
    assert client.delete(f"{URL}{root['id']}/").status_code == 204


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Billing"}, "name"),  # taken at the root
        ({"name": "X", "parent": "abc"}, "parent"),
        ({"name": "X", "parent": 10**9}, "parent"),
    ],
)
def test_invalid_payloads_name_the_field(floor_a: Floor, payload: dict, attr: str) -> None:
    make_category(floor_a.org, "Billing")
    response = client_for(floor_a.admin).post(URL, payload)
    assert response.status_code == 400, response.content
    assert error_attrs(response) == [attr]
