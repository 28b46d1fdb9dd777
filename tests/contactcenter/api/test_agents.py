import pytest

from contactcenter.models import AgentStateLog
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db


def test_every_role_reads_the_roster(floor_a: Floor) -> None:
    for member in (floor_a.agent_member, floor_a.supervisor, floor_a.admin):
        resp = client_for(member).get("/api/v1/agents/")
        assert resp.status_code == 200
        ids = {row["id"] for row in resp.json()["results"]}
        assert ids == {floor_a.agent.pk, floor_a.other_agent.pk}


def test_only_admins_manage_profiles(floor_a: Floor) -> None:
    payload = {"name": "Dan", "extension": "1099"}
    for member in (floor_a.agent_member, floor_a.supervisor):
        assert client_for(member).post("/api/v1/agents/", payload).status_code == 403
    resp = client_for(floor_a.admin).post("/api/v1/agents/", payload)
    assert resp.status_code == 201, resp.content
    assert resp.json()["interface"] == "PJSIP/1099"
    assert resp.json()["state"] == "offline"


def test_an_agent_can_be_created_inactive(floor_a: Floor) -> None:
    # Found by the schema fuzzer (tests/fuzz): is_active in the payload was a 500.
    resp = client_for(floor_a.admin).post(
        "/api/v1/agents/", {"name": "Eve", "extension": "1098", "is_active": False}
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["is_active"] is False


def test_duplicate_extension_is_a_field_error(floor_a: Floor) -> None:
    resp = client_for(floor_a.admin).post(
        "/api/v1/agents/", {"name": "Dup", "extension": floor_a.agent.extension}
    )
    assert resp.status_code == 400
    assert resp.json()["type"] == "validation_error"


def test_agent_sets_own_state_and_it_is_logged(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    url = f"/api/v1/agents/{floor_a.agent.pk}/state/"
    assert client.post(url, {"state": "available"}).status_code == 200
    resp = client.post(url, {"state": "paused", "reason": "Lunch"})
    assert resp.status_code == 200
    assert resp.json()["state"] == "paused"
    assert resp.json()["state_reason"] == "Lunch"
    # The same state again is not a new interval.
    assert client.post(url, {"state": "paused", "reason": "Lunch"}).status_code == 200
    log = list(AgentStateLog.objects.filter(agent=floor_a.agent).order_by("started_at"))
    assert [(row.state, row.reason) for row in log] == [("available", ""), ("paused", "Lunch")]
    assert log[0].ended_at == log[1].started_at
    assert log[1].ended_at is None

    history = client.get("/api/v1/agent-state-log/", {"agent": floor_a.agent.pk})
    assert history.status_code == 200
    assert [row["state"] for row in history.json()["results"]] == ["available", "paused"]


def test_pause_needs_a_reason(floor_a: Floor) -> None:
    resp = client_for(floor_a.agent_member).post(
        f"/api/v1/agents/{floor_a.agent.pk}/state/", {"state": "paused"}
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "reason"


def test_pbx_only_states_cannot_be_chosen(floor_a: Floor) -> None:
    resp = client_for(floor_a.agent_member).post(
        f"/api/v1/agents/{floor_a.agent.pk}/state/", {"state": "on_call"}
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "state"


def test_agent_cannot_set_a_colleagues_state_but_supervisor_can(floor_a: Floor) -> None:
    url = f"/api/v1/agents/{floor_a.other_agent.pk}/state/"
    assert client_for(floor_a.agent_member).post(url, {"state": "available"}).status_code == 403
    assert client_for(floor_a.supervisor).post(url, {"state": "available"}).status_code == 200
    # Nor read their time in state.
    query = {"agent": floor_a.other_agent.pk}
    agent_view = client_for(floor_a.agent_member).get("/api/v1/agent-state-log/", query)
    assert agent_view.json()["results"] == []
    floor_view = client_for(floor_a.supervisor).get("/api/v1/agent-state-log/", query)
    assert [row["state"] for row in floor_view.json()["results"]] == ["available"]
