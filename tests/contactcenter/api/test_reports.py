"""GET /api/v1/reports/queues/ and /agents/: the floor's roles only, checked input,
one organization, numbers equal to the call records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from contactcenter.enums import AgentState
from tests.conftest import Floor, client_for
from tests.contactcenter.report_figures import (
    FIRST,
    KOLKATA,
    LAST,
    busy_floor,
    expected_agents,
    expected_queues,
)
from tests.factories import make_queue

pytestmark = pytest.mark.django_db
QUEUES, AGENTS = "/api/v1/reports/queues/", "/api/v1/reports/agents/"
RANGE = f"?from={FIRST.isoformat()}&to={LAST.isoformat()}"


def _errors(resp: Any) -> dict[str, str]:
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["type"] == "validation_error"
    return {e["attr"]: e["detail"] for e in body["errors"]}


@pytest.mark.parametrize("url", [QUEUES, AGENTS])
def test_supervisors_and_admins_read_reports_agents_do_not(
    floor_a: Floor, api_client: Any, url: str
) -> None:
    assert client_for(floor_a.agent_member).get(url + RANGE).status_code == 403
    assert client_for(floor_a.supervisor).get(url + RANGE).status_code == 200
    assert client_for(floor_a.admin).get(url + RANGE).status_code == 200
    assert api_client.get(url + RANGE).status_code == 401


def test_queue_report_over_rest_equals_the_call_records(floor_a: Floor) -> None:
    org = floor_a.org
    org.time_zone = KOLKATA
    org.save()
    queues, _ = busy_floor(org, seed=21)
    resp = client_for(floor_a.supervisor).get(QUEUES + RANGE)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    expected = expected_queues(org, FIRST, LAST)
    assert body["time_zone"] == KOLKATA
    assert (body["date_from"], body["date_to"]) == (FIRST.isoformat(), LAST.isoformat())
    assert [q["queue_id"] for q in body["queues"]] == [queues[1].pk, queues[0].pk]  # by name
    for row in body["queues"]:
        mine = expected["queues"][row["queue_id"]]
        assert {d["date"]: d["figures"] for d in row["days"]} == mine["days"]
        assert {d["source"] for d in row["days"]} == {"live"}
        assert row["totals"] == mine["totals"]
    assert body["totals"] == expected["totals"]

    one = client_for(floor_a.admin).get(QUEUES + RANGE + f"&queue={queues[0].pk}").json()
    assert [q["queue_id"] for q in one["queues"]] == [queues[0].pk]
    assert one["totals"] == expected["queues"][queues[0].pk]["totals"]


def test_agent_report_over_rest_equals_the_records(floor_a: Floor) -> None:
    org = floor_a.org
    _, agents = busy_floor(org, seed=22)
    resp = client_for(floor_a.supervisor).get(AGENTS + RANGE + f"&agent={agents[0].pk}")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    now = timezone.now()  # only open state intervals depend on it; none are in agent 0's
    expected = expected_agents(org, FIRST, LAST, now)["agents"][agents[0].pk]
    [row] = body["agents"]
    assert (row["agent_id"], row["extension"]) == (agents[0].pk, agents[0].extension)
    assert {d["date"]: d["figures"] for d in row["days"]} == expected["days"]
    assert row["totals"] == expected["totals"]
    assert body["totals"] == expected["totals"]
    assert set(row["totals"]["state_seconds"]) == {s.value for s in AgentState}

    everyone = client_for(floor_a.supervisor).get(AGENTS + RANGE).json()
    # The floor's own agents (with no figures) are listed too, with zeros.
    listed = {r["agent_id"] for r in everyone["agents"]}
    assert {floor_a.agent.pk, floor_a.other_agent.pk, *(a.pk for a in agents)} <= listed


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("", "from", "required"),
        ("?from=2025-11-01", "to", "required"),
        ("?from=2025-13-01&to=2025-11-03", "from", "format"),
        ("?from=yesterday&to=2025-11-03", "from", "format"),
        ("?from=2025-11-01T00:00&to=2025-11-03", "from", "format"),
        ("?from=2025-11-03&to=2025-11-01", "to", "on or after"),
        ("?from=2025-01-01&to=2025-11-01", "to", "at most 92 days"),
        ("?from=2025-11-01&to=2999-01-01", "to", "after today"),
    ],
)
@pytest.mark.parametrize("url", [QUEUES, AGENTS])
def test_bad_ranges_answer_400_with_the_field(
    floor_a: Floor, url: str, query: str, field: str, words: str
) -> None:
    errors = _errors(client_for(floor_a.supervisor).get(url + query))
    assert field in errors, errors
    assert words in errors[field].lower() or words in errors[field], errors


def test_the_longest_range_is_configurable_and_today_is_allowed(
    floor_a: Floor, settings: Any
) -> None:
    today = timezone.now().astimezone(ZoneInfo(floor_a.org.time_zone)).date()
    first = today - timedelta(days=91)
    ok = client_for(floor_a.supervisor).get(QUEUES + f"?from={first}&to={today}")
    assert ok.status_code == 200, ok.content
    settings.REPORTS_MAX_DAYS = 7
    errors = _errors(client_for(floor_a.supervisor).get(QUEUES + f"?from={first}&to={today}"))
    assert "at most 7 days" in errors["to"]


def test_queue_and_agent_of_another_organization_are_refused(
    floor_a: Floor, floor_b: Floor
) -> None:
    theirs = make_queue(floor_b.org)
    sup = client_for(floor_a.supervisor)
    assert "does not exist" in _errors(sup.get(QUEUES + RANGE + f"&queue={theirs.pk}"))["queue"]
    agent = floor_b.agent.pk
    assert "does not exist" in _errors(sup.get(AGENTS + RANGE + f"&agent={agent}"))["agent"]
    assert "queue" in _errors(sup.get(QUEUES + RANGE + "&queue=abc"))
    assert "agent" in _errors(sup.get(AGENTS + RANGE + "&agent=0"))


def test_one_organizations_report_never_shows_anothers_calls(
    floor_a: Floor, floor_b: Floor
) -> None:
    busy_floor(floor_b.org, seed=23)
    body = client_for(floor_a.supervisor).get(QUEUES + RANGE).json()
    assert body["queues"] == []
    assert body["totals"]["offered"] == 0
    agents = client_for(floor_a.supervisor).get(AGENTS + RANGE).json()
    floor_b_ids = {floor_b.agent.pk, floor_b.other_agent.pk}
    assert not floor_b_ids & {r["agent_id"] for r in agents["agents"]}
    assert agents["totals"]["answered"] == 0


def test_reports_are_in_the_openapi_schema() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, params in [(QUEUES, {"from", "to", "queue"}), (AGENTS, {"from", "to", "agent"})]:
        operation = schema["paths"][path]["get"]
        assert {p["name"] for p in operation["parameters"]} == params
        required = {p["name"] for p in operation["parameters"] if p.get("required")}
        assert required == {"from", "to"}
        assert "400" in operation["responses"] and "403" in operation["responses"]
