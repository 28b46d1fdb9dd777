from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crm.models import Case, CaseHistory
from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, make_case, make_category, make_contact, result_ids
from tests.factories import make_call

URL = "/api/v1/cases/"


def _member(floor: Floor, role: str) -> Any:
    return {"admin": floor.admin, "supervisor": floor.supervisor, "agent": floor.agent_member}[role]


@pytest.fixture
def cases(floor_a: Floor) -> dict[str, Case]:
    return {
        "mine": make_case(floor_a.org, "Mine", assigned_agent=floor_a.agent),
        "theirs": make_case(floor_a.org, "Theirs", assigned_agent=floor_a.other_agent),
        "free": make_case(floor_a.org, "Free"),
    }


@pytest.mark.parametrize(
    ("role", "visible"),
    [("agent", {"mine", "free"}), ("supervisor", {"mine", "theirs", "free"}), ("admin", None)],
)
def test_list_visibility(floor_a: Floor, cases: dict[str, Case], role: str, visible: Any) -> None:
    expected = {cases[name].pk for name in (visible or cases)}
    assert result_ids(client_for(_member(floor_a, role)).get(URL)) == expected


def test_agent_cannot_reach_another_agents_case(floor_a: Floor, cases: dict[str, Case]) -> None:
    client = client_for(floor_a.agent_member)
    theirs = f"{URL}{cases['theirs'].pk}/"
    assert client.get(theirs).status_code == 404
    assert client.patch(theirs, {"title": "Mine now"}).status_code == 404
    assert client.get(f"{theirs}notes/").status_code == 404
    assert client.post(f"{theirs}notes/", {"body": "hi"}).status_code == 404
    assert client.get(f"{theirs}history/").status_code == 404
    assert client.get(f"{URL}{cases['free'].pk}/").status_code == 200
    assert client.get(f"{URL}{cases['mine'].pk}/").status_code == 200


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_every_role_creates_and_updates(floor_a: Floor, role: str) -> None:
    client = client_for(_member(floor_a, role))
    contact = make_contact(floor_a.org)
    category = make_category(floor_a.org)
    call = make_call(floor_a.org)
    created = client.post(
        URL,
        {
            "title": "Refund",
            "priority": "high",
            "contact": contact.pk,
            "category": category.pk,
            "source_call": call.pk,
            "assigned_agent": floor_a.agent.pk,
            "due_at": "2030-01-02T03:04:05Z",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["reference"] == "CASE-000001"
    assert (body["contact"], body["category"], body["source_call"]) == (
        contact.pk,
        category.pk,
        call.pk,
    )
    assert body["created_by"] == _member(floor_a, role).user_id
    patched = client.patch(f"{URL}{body['id']}/", {"status": "resolved", "category": None})
    assert patched.status_code == 200, patched.content
    assert patched.json()["resolved_at"] is not None
    assert patched.json()["category"] is None


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("supervisor", 403), ("admin", 204)])
def test_delete_is_for_admins(floor_a: Floor, role: str, status: int) -> None:
    case = make_case(floor_a.org)
    assert client_for(_member(floor_a, role)).delete(f"{URL}{case.pk}/").status_code == status
    assert Case.objects.filter(pk=case.pk).exists() == (status != 204)


def test_notes_and_history(floor_a: Floor, cases: dict[str, Case]) -> None:
    client = client_for(floor_a.agent_member)
    url = f"{URL}{cases['mine'].pk}/"
    added = client.post(f"{url}notes/", {"body": "Called back"})
    assert added.status_code == 201, added.content
    assert added.json()["author"] == floor_a.agent_member.user_id
    notes = client.get(f"{url}notes/").json()
    assert [note["body"] for note in notes] == ["Called back"]
    client.patch(url, {"title": "Renamed", "priority": "urgent"})
    history = client.get(f"{url}history/").json()
    assert {(row["field"], row["old_value"], row["new_value"]) for row in history} == {
        ("title", "Mine", "Renamed"),
        ("priority", "normal", "urgent"),
    }
    assert {row["changed_by"] for row in history} == {floor_a.agent_member.user_id}


def test_filters(floor_a: Floor, cases: dict[str, Case]) -> None:
    contact = make_contact(floor_a.org)
    urgent = make_case(
        floor_a.org,
        "Urgent",
        priority="urgent",
        contact=contact,
        due_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    client = client_for(floor_a.supervisor)
    assert result_ids(client.get(URL, {"priority": "urgent"})) == {urgent.pk}
    assert result_ids(client.get(URL, {"assigned_agent": floor_a.agent.pk})) == {cases["mine"].pk}
    assert result_ids(client.get(URL, {"unassigned": "true"})) == {cases["free"].pk, urgent.pk}
    assert result_ids(client.get(URL, {"contact": contact.pk})) == {urgent.pk}
    assert result_ids(client.get(URL, {"due_at_after": "2029-12-31T00:00:00Z"})) == {urgent.pk}
    # The others are due by their priority's SLA (crm.selectors.sla), days from now.
    assert result_ids(client.get(URL, {"due_at_before": "2029-12-31T00:00:00Z"})) == {
        case.pk for case in cases.values()
    }
    assert result_ids(client.get(URL, {"search": "theirs"})) == {cases["theirs"].pk}
    assert result_ids(client.get(URL, {"status": ["open", "closed"]})) == {
        case.pk for case in [*cases.values(), urgent]
    }
    ordered = client.get(URL, {"ordering": "number"}).json()["results"]
    assert [row["number"] for row in ordered] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"status": "lost"}, "status"),
        ({"assigned_agent": "abc"}, "assigned_agent"),
        ({"due_at_after": "tomorrow"}, "due_at"),
    ],
)
def test_bad_filters_are_400(floor_a: Floor, params: dict, attr: str) -> None:
    response = client_for(floor_a.supervisor).get(URL, params)
    assert response.status_code == 400
    assert error_attrs(response)[0].startswith(attr)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": ["x"]}, "title"),
        ({"title": "T", "status": "lost"}, "status"),
        ({"title": "T", "priority": 3}, "priority"),
        ({"title": "T", "assigned_agent": "abc"}, "assigned_agent"),
        ({"title": "T", "assigned_agent": 10**9}, "assigned_agent"),
        ({"title": "T", "category": 10**9}, "category"),
        ({"title": "T", "contact": {"id": 1}}, "contact"),
        ({"title": "T", "source_call": 10**9}, "source_call"),
        ({"title": "T", "due_at": "tomorrow"}, "due_at"),
    ],
)
def test_invalid_payloads_name_the_field(floor_a: Floor, payload: dict, attr: str) -> None:
    client = client_for(floor_a.agent_member)
    response = client.post(URL, payload)
    assert response.status_code == 400, response.content
    assert error_attrs(response) == [attr]
    if payload:
        case = make_case(floor_a.org)
        response = client.patch(f"{URL}{case.pk}/", payload)
        assert response.status_code == 400, response.content
        assert error_attrs(response) == [attr]
    assert not CaseHistory.objects.exists()


def test_note_needs_a_body(floor_a: Floor) -> None:
    case = make_case(floor_a.org)
    client = client_for(floor_a.agent_member)
    for payload in ({}, {"body": ""}, {"body": "  "}):
        response = client.post(f"{URL}{case.pk}/notes/", payload)
        assert response.status_code == 400
        assert error_attrs(response) == ["body"]
