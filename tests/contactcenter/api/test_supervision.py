"""The supervisor's actions over REST (contactcenter/api/supervision.py): refusals for
agents and for another organization, and one action through the real bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from contactcenter.enums import AgentState
from contactcenter.models import Agent, AuditEntry, CallEvent
from tests.conftest import Floor, client_for
from tests.factories import make_call, make_queue
from tests.realtime.pbxfloor import Floor as PbxFloor
from tests.realtime.pbxfloor import pbx_floor


def _error(response: Any) -> tuple[str, str | None]:
    error = response.json()["errors"][0]
    return error["code"], error["attr"]


def _urls(floor: Floor) -> list[tuple[str, dict[str, Any]]]:
    agent, queue = floor.agent.pk, make_queue(floor.org, "support").pk
    call = make_call(floor.org, agent=floor.agent).pk
    return [
        (f"/api/v1/agents/{agent}/pause/", {"paused": True, "reason": "coaching"}),
        (f"/api/v1/agents/{agent}/log-out/", {}),
        (f"/api/v1/agents/{agent}/queues/", {"queue": queue, "penalty": 2}),
        (f"/api/v1/agents/{agent}/queues/{queue}/remove/", {}),
        (f"/api/v1/calls/{call}/hang-up/", {}),
        (f"/api/v1/calls/{call}/move/", {"agent": agent}),
        (f"/api/v1/calls/{call}/move/", {"queue": queue}),
        (f"/api/v1/calls/{call}/monitor/", {"mode": "listen"}),
        (f"/api/v1/calls/{call}/monitor/stop/", {}),
    ]


@pytest.mark.django_db
def test_agents_and_other_organizations_are_refused(floor_a: Floor, floor_b: Floor) -> None:
    urls = _urls(floor_a)
    agent = client_for(floor_a.agent_member)
    for url, body in urls:
        response = agent.post(url, body, format="json")
        assert response.status_code == 403, (url, response.content)
    other = client_for(floor_b.supervisor)
    for url, body in urls:
        response = other.post(url, body, format="json")
        assert response.status_code == 404, (url, response.content)
    assert not AuditEntry.objects.filter(action__startswith="pbx.").exists()
    floor_a.agent.refresh_from_db()
    assert floor_a.agent.state == AgentState.OFFLINE


# Transactional: the services' database work runs through database_sync_to_async, which
# closes the connection a non-transactional test holds its transaction on.
@pytest.mark.django_db(transaction=True)
def test_without_a_pbx(floor_a: Floor) -> None:
    client = client_for(floor_a.supervisor)
    url = f"/api/v1/agents/{floor_a.agent.pk}/pause/"
    response = client.post(url, {"paused": True}, format="json")
    assert response.status_code == 400
    assert _error(response) == ("invalid", "reason")
    # No PBX connection: the pause is the state alone.
    response = client.post(url, {"paused": True, "reason": "coaching"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["agent"]["state"] == AgentState.PAUSED
    assert response.json()["pbx"] is None
    queue = make_queue(floor_a.org, "support")
    response = client.post(
        f"/api/v1/agents/{floor_a.agent.pk}/queues/", {"queue": queue.pk}, format="json"
    )
    assert response.status_code == 409
    assert _error(response)[0] == "no_pbx"
    call = make_call(floor_a.org, agent=floor_a.agent)
    response = client.post(f"/api/v1/calls/{call.pk}/monitor/", {"mode": "barge"}, format="json")
    assert response.status_code == 409
    assert _error(response)[0] == "no_phone"  # the supervisor has no phone
    # A move names an agent or a queue, one of them.
    for body in ({}, {"agent": floor_a.agent.pk, "queue": queue.pk}):
        response = client.post(f"/api/v1/calls/{call.pk}/move/", body, format="json")
        assert response.status_code == 400, response.content
    response = client.post(f"/api/v1/calls/{call.pk}/move/", {"queue": queue.pk}, format="json")
    assert response.status_code == 409
    assert _error(response)[0] == "no_pbx"


@pytest.fixture
async def floor() -> AsyncIterator[PbxFloor]:
    async with pbx_floor() as floor:
        yield floor


@pytest.mark.django_db(transaction=True)
async def test_pause_through_the_bridge(floor: PbxFloor) -> None:
    supervisor = floor.members["supervisor"]
    token = client_for(supervisor)._credentials["HTTP_AUTHORIZATION"]  # type: ignore[attr-defined]
    bob = floor.agents["bob"]
    response = await AsyncClient().post(
        f"/api/v1/agents/{bob.pk}/pause/",
        {"paused": True, "reason": "coaching"},
        content_type="application/json",
        headers={"authorization": token},
    )
    assert response.status_code == 200, response.content
    assert response.json()["pbx"]["message"] == "Interface paused successfully"
    assert floor.member("support", "1002").paused_reason == "coaching"
    # The PBX says no: the queue is not there.
    response = await AsyncClient().post(
        f"/api/v1/agents/{bob.pk}/queues/{floor.queues['sales'].pk}/remove/",
        content_type="application/json",
        headers={"authorization": token},
    )
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["detail"]) == (
        "pbx_failed",
        "Unable to remove interface: Not there",
    )
    await floor.settled()
    assert (await Agent.objects.aget(pk=bob.pk)).state == AgentState.PAUSED
    asked = await sync_to_async(
        lambda: list(
            AuditEntry.objects.filter(action__startswith="pbx.")
            .order_by("id")
            .values_list("action", "actor_user_id")
        )
    )()
    user = supervisor.user.pk
    assert asked == [("pbx.queue_pause", user), ("pbx.queue_remove", user)]


@pytest.mark.django_db
def test_the_agent_does_not_see_the_monitoring_on_the_timeline(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    for kind in ("monitor.started", "monitor.stopped"):
        CallEvent.objects.create(
            organization=floor_a.org,
            call=call,
            type=kind,
            occurred_at=timezone.now(),
            details={"mode": "listen"},
            dedup_key=f"test:{kind}",
        )
    url = f"/api/v1/calls/{call.pk}/"
    seen = client_for(floor_a.supervisor).get(url).json()["events"]
    assert [e["type"] for e in seen if e["type"].startswith("monitor.")] == [
        "monitor.started",
        "monitor.stopped",
    ]
    seen = client_for(floor_a.agent_member).get(url).json()["events"]
    assert not [e for e in seen if e["type"].startswith("monitor.")]
