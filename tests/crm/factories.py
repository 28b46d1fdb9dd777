"""Builders for crm test data, through the crm services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contactcenter.models import Call, CallDisposition, Organization
from contactcenter.services.calls import call_set_disposition
from crm.models import Case, CaseCategory, Contact
from crm.services import case_category_create, case_create, contact_create
from tests.conftest import Floor


def make_contact(org: Organization, *numbers: str, **kwargs: Any) -> Contact:
    kwargs.setdefault("first_name", "Ada")
    kwargs.setdefault("last_name", "Lovelace")
    phones = [{"number": number} for number in numbers]
    return contact_create(organization=org, phones=phones, **kwargs)  # type: ignore[arg-type]


def make_case(org: Organization, title: str = "Refund request", **kwargs: Any) -> Case:
    kwargs.setdefault("actor", None)
    return case_create(organization=org, title=title, **kwargs)


def make_category(org: Organization, name: str = "Billing", **kwargs: Any) -> CaseCategory:
    return case_category_create(organization=org, name=name, **kwargs)


def error_attrs(response: Any) -> list[str | None]:
    """The ``attr`` of each error of a drf-standardized-errors body."""
    return [error["attr"] for error in response.json()["errors"]]


def result_ids(response: Any) -> set[int]:
    """The ids on a paginated list response."""
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


Capture = Callable[..., Any]


def make_disposition(floor: Floor, code: str = "complaint", **kwargs: Any) -> CallDisposition:
    kwargs.setdefault("name", code.title())
    return CallDisposition.objects.create(organization=floor.org, code=code, **kwargs)


def set_disposition(
    capture: Capture, call: Call, disposition: CallDisposition | None, floor: Floor
) -> Call:
    """As the console and the REST API do it; the after-commit work runs here (eager)."""
    with capture(execute=True):
        return call_set_disposition(
            call=call, disposition=disposition, actor=floor.agent_member.user
        )
