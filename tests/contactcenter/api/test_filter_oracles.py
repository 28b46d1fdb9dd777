"""No list tells another organization's ids from ids never used.

Every query parameter of every list in the OpenAPI schema that names a related row (a
filter on a relation, and the report and wallboard parameters that take an id) is
asked for with an id of organization B's and with an id no row has, by organization
A's admin: both answers must be the same, status and body. Before, ``?queue=<B's>``
answered 200 and an empty list while ``?queue=99999`` answered 400 invalid_choice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models
from django.urls import resolve
from django_filters.utils import get_model_field
from drf_spectacular.generators import SchemaGenerator

from contactcenter.api.filtering import FilterBackend
from contactcenter.models import (
    Agent,
    CallDisposition,
    CallQueue,
    QueueMembership,
)
from crm.models import Notification
from tests.conftest import Floor, client_for
from tests.crm.factories import make_case, make_category, make_contact
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db

# Parameters that take a row's id outside a filter class (query serializers).
ID_PARAMETERS: dict[str, type[models.Model]] = {"queue": CallQueue, "agent": Agent}


def _related_model(view_class: Any, parameter: str) -> type[models.Model] | None:
    """The model whose id ``parameter`` takes on this list, or None."""
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        view = view_class()
        filterset = FilterBackend().get_filterset_class(view, queryset)
        if filterset is not None and parameter in filterset.base_filters:
            field = get_model_field(queryset.model, filterset.base_filters[parameter].field_name)
            if field is not None and field.is_relation:
                return field.related_model  # type: ignore[return-value]
            return None
    return ID_PARAMETERS.get(parameter)


def _id_parameters() -> list[tuple[str, str, type[models.Model], dict[str, str]]]:
    """(path, parameter, related model, the other required parameters) of every list."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    today = dt.date.today().isoformat()
    found = []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path or not path.startswith("/api/v1/"):
            continue
        parameters = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        required = {
            p["name"]: today for p in parameters if p.get("required") and p["name"] != "format"
        }
        view_class = getattr(resolve(path).func, "cls", None)
        for parameter in parameters:
            model = _related_model(view_class, parameter["name"]) if view_class else None
            if model is not None:
                found.append((path, parameter["name"], model, required))
    return found


def _rows_of_b(floor: Floor) -> dict[type[models.Model], int]:
    """One row of organization B per related model a filter may name."""
    org = floor.org
    queue = make_queue(org, "b-queue")
    membership = QueueMembership.objects.create(organization=org, queue=queue, agent=floor.agent)
    contact = make_contact(org, "+15550009999")
    category = make_category(org, "b-category")
    disposition = CallDisposition.objects.create(organization=org, name="b-disp", code="b")
    call = make_call(org, agent=floor.agent, queue=queue)
    case = make_case(org, contact=contact, category=category)
    from crm.services.notifications import notification_create

    notification = notification_create(
        organization_id=org.pk, user_id=floor.agent_member.user_id, kind="system", title="b"
    )
    rows: list[models.Model] = [
        queue,
        membership,
        contact,
        category,
        disposition,
        call,
        case,
        notification,
        floor.agent,
        floor.agent_member,
        floor.agent_member.user,
        org,
    ]
    assert isinstance(notification, Notification)
    return {type(row): row.pk for row in rows}


def _comparable(response: Any, value: int) -> Any:
    """The answer, less what differs by nature: the moment it was made, and the id a
    refusal names."""
    if response.streaming:  # CSV exports
        return b"".join(response)
    body = response.json()
    body.pop("generated_at", None)
    for error in body.get("errors", []) if isinstance(body, dict) else []:
        error["detail"] = error["detail"].replace(str(value), "<id>")
    return body


def test_another_organizations_id_answers_as_an_unused_one(floor_a: Floor, floor_b: Floor) -> None:
    theirs = _rows_of_b(floor_b)
    client = client_for(floor_a.admin)
    checked = set()
    for path, parameter, model, required in _id_parameters():
        assert model in theirs, f"{path}?{parameter}=: add a row of {model.__name__} to B"
        foreign = theirs[model]
        unused = (model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1000
        answers = []
        for value in (foreign, unused):
            response = client.get(path, {**required, parameter: value})
            assert response.status_code < 500, (path, parameter, response.content)
            answers.append((response.status_code, _comparable(response, value)))
        assert answers[0] == answers[1], (path, parameter, answers)
        checked.add((path, parameter))
    # The ones the outside probe found, among the rest.
    assert {
        ("/api/v1/calls/", "queue"),
        ("/api/v1/calls/", "agent"),
        ("/api/v1/agent-state-log/", "agent"),
        ("/api/v1/queue-memberships/", "queue"),
        ("/api/v1/queue-memberships/", "agent"),
        ("/api/v1/cases/", "contact"),
        ("/api/v1/agents/", "queue"),
    } <= checked, sorted(checked)


def test_a_related_id_filter_takes_whole_numbers_only(floor_a: Floor) -> None:
    client = client_for(floor_a.admin)
    for value in ("abc", "1.5", "1e3"):
        response = client.get("/api/v1/calls/", {"queue": value})
        assert response.status_code == 400, (value, response.content)
        assert response.json()["errors"][0]["attr"] == "queue"
    # Beyond a bigint: no such row, like any unused id (not a database error).
    assert client.get("/api/v1/calls/", {"queue": "9" * 30}).status_code == 200


def test_own_ids_still_filter(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "mine")
    call = make_call(floor_a.org, queue=queue)
    make_call(floor_a.org)
    response = client_for(floor_a.admin).get("/api/v1/calls/", {"queue": queue.pk})
    assert [row["id"] for row in response.json()["results"]] == [call.pk]
