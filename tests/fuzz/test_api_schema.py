"""The REST API fuzzed from its own OpenAPI schema (schemathesis): whatever a client
sends, no server error, and nothing of another organization in any answer.

Organization B's rows carry a marker string; an admin of organization A fuzzes every
operation (ids of B's rows included, as small integers are what the generator tries
first). ``FUZZ_EXAMPLES`` sets the examples per operation (default 10).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken

from contactcenter.enums import Role
from contactcenter.models import Call
from crm.models import Case, CaseNote
from crm.services.contacts import contact_create
from tests.conftest import build_floor
from tests.factories import make_call, make_member

MARKER = "zq-org-b-private-zq"

with override_settings(API_DOCS_PUBLIC=True):  # read at import, before any fixture
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    # As Django's test client does: a request's end must not close the connection that
    # holds the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(db: None, _keep_test_connection: None, twilio_api: Any) -> dict[str, str]:
    # twilio_api: registering a Twilio account asks Twilio (faked: it knows no account).
    a, b = build_floor("Org A"), build_floor("Org B")
    contact = contact_create(
        organization=b.org,
        first_name=MARKER,
        last_name=MARKER,
        phones=[{"number": "+15550009999"}],
    )
    case = Case.objects.create(
        organization=b.org, number=1, title=MARKER, description=MARKER, contact=contact
    )
    CaseNote.objects.create(organization=b.org, case=case, body=MARKER)
    call = make_call(b.org, caller_number="+15550009999")
    Call.objects.filter(pk=call.pk).update(caller_name=MARKER, notes=MARKER)
    make_member(b.org, Role.AGENT, username=MARKER)
    # A's own rows, so list and detail operations have something real to return.
    make_call(a.org)
    contact_create(organization=a.org, first_name="Ann", phones=[{"number": "+15550001111"}])
    token = RefreshToken.for_user(a.admin.user).access_token
    return {"Authorization": f"Bearer {token}"}


@schema.include(path_regex=r"^/api/v1/").parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_other_organization(case: Any, bearer: dict[str, str]) -> None:
    response = case.call(headers=bearer)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert MARKER not in response.text, (case.method, case.formatted_path)
