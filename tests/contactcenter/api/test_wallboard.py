"""GET /api/v1/wallboard/: the floor's roles only, one organization, the stored numbers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from contactcenter.api.wallboard import AgentsByStateSerializer
from contactcenter.enums import AgentState
from contactcenter.models import CallQueue, Organization
from contactcenter.selectors.figures_common import local_day
from tests.conftest import Floor, client_for
from tests.contactcenter.wallboard_figures import OUTCOMES, expected_board, queue_call, random_floor
from tests.factories import make_queue

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallboard/"


def _busy(org: Organization, time_zone: str, seed: int) -> None:
    org.time_zone = time_zone
    org.save()
    random_floor(org, timezone.now(), random.Random(seed))


def _board(floor: Floor, query: str = "") -> dict[str, Any]:
    resp = client_for(floor.supervisor).get(URL + query)
    assert resp.status_code == 200, resp.content
    body: dict[str, Any] = resp.json()
    return body


def _now(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(body["generated_at"])


def _expected(org: Organization, body: dict[str, Any], queue_ids: list[int] | None = None) -> Any:
    # The response names the instant it was computed for; recompute for that instant.
    return expected_board(org, _now(body), queue_ids)


def test_supervisors_and_admins_read_it_agents_do_not(floor_a: Floor, api_client: Any) -> None:
    assert client_for(floor_a.agent_member).get(URL).status_code == 403
    assert client_for(floor_a.supervisor).get(URL).status_code == 200
    assert client_for(floor_a.admin).get(URL).status_code == 200
    assert api_client.get(URL).status_code == 401
    # Read-only: writes are refused (permissions run before method dispatch).
    assert client_for(floor_a.supervisor).post(URL, {}).status_code == 403
    assert client_for(floor_a.admin).post(URL, {}).status_code == 405


def test_the_response_equals_the_call_records(floor_a: Floor) -> None:
    _busy(floor_a.org, "America/New_York", seed=11)
    body = _board(floor_a)
    expected = _expected(floor_a.org, body)
    assert body["queues"] == expected["queues"]
    assert body["totals"] == expected["totals"]
    assert body["time_zone"] == "America/New_York"
    day = local_day(time_zone="America/New_York", now=_now(body))
    assert body["day_start"] == day.start.isoformat().replace("+00:00", "Z")
    assert body["day_end"] == day.end.isoformat().replace("+00:00", "Z")


def test_queue_filter_narrows_and_a_foreign_queue_yields_nothing(
    floor_a: Floor, floor_b: Floor
) -> None:
    _busy(floor_a.org, "Asia/Kolkata", seed=12)
    billing = CallQueue.objects.get(organization=floor_a.org, pbx_queue_name="billing")
    body = _board(floor_a, f"?queue={billing.pk}")
    assert [q["queue_id"] for q in body["queues"]] == [billing.pk]
    expected = _expected(floor_a.org, body, [billing.pk])
    assert (body["queues"], body["totals"]) == (expected["queues"], expected["totals"])

    foreign = make_queue(floor_b.org, "support")
    queue_call(foreign, queued_at=timezone.now(), outcome="waiting")
    body = _board(floor_a, f"?queue={foreign.pk}")
    assert body["queues"] == []
    assert body["totals"]["offered"] == body["totals"]["callers_waiting"] == 0

    resp = client_for(floor_a.supervisor).get(URL + "?queue=abc")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "queue"


def test_each_organization_sees_only_its_own_floor(floor_a: Floor, floor_b: Floor) -> None:
    qa, qb = make_queue(floor_a.org, "support"), make_queue(floor_b.org, "support")
    now = timezone.now()
    for n, outcome in enumerate(OUTCOMES):
        queue_call(qb, queued_at=now - timedelta(seconds=n), outcome=outcome, wait=7, talk=70)
    queue_call(qa, queued_at=now - timedelta(seconds=30), outcome="waiting")
    body_a, body_b = _board(floor_a), _board(floor_b)
    assert [q["queue_id"] for q in body_a["queues"]] == [qa.pk]
    assert [q["queue_id"] for q in body_b["queues"]] == [qb.pk]
    assert body_a["totals"]["callers_waiting"] == 1
    for floor, body in ((floor_a, body_a), (floor_b, body_b)):
        expected = _expected(floor.org, body)
        assert (body["queues"], body["totals"]) == (expected["queues"], expected["totals"])


def test_agent_states_in_the_schema_follow_the_enum() -> None:
    assert set(AgentsByStateSerializer().fields) == {s.value for s in AgentState}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"]] == ["queue"]
