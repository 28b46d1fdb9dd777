"""The JWT authentication's user read: one statement, bound to the id, never a cache."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcenter.models import Membership, Organization
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db


def test_the_user_is_read_by_the_prepared_statement(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    assert client.get("/api/v1/calls/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/calls/").status_code == 200
    user_reads = [q["sql"] for q in queries if '"contactcenter_user"' in q["sql"]]
    assert user_reads == [], user_reads  # no statement built for it by the ORM
    assert any(q["sql"].lstrip().startswith("EXECUTE cc_shape_") for q in queries)


def test_each_request_reads_the_user_afresh(floor_a: Floor) -> None:
    agent = client_for(floor_a.agent_member)
    supervisor = client_for(floor_a.supervisor)
    assert agent.get("/api/v1/calls/").status_code == 200
    assert supervisor.get("/api/v1/calls/").status_code == 200
    Membership.objects.filter(pk=floor_a.agent_member.pk).delete()
    assert agent.get("/api/v1/calls/").status_code == 403
    Organization.objects.filter(pk=floor_a.org.pk).update(is_active=False)
    assert supervisor.get("/api/v1/calls/").status_code == 403


def test_a_deactivated_user_is_refused_at_once(floor_a: Floor) -> None:
    client = client_for(floor_a.supervisor)
    assert client.get("/api/v1/calls/").status_code == 200
    user = floor_a.supervisor.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get("/api/v1/calls/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "user_inactive"
