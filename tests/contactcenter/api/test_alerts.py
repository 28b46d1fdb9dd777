"""Queue alerts over REST: the thresholds on /api/v1/queues/ (admins), the raised and
cleared alerts on /api/v1/queue-alerts/ (the floor reads, nobody writes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.models import CallQueue, QueueAlert
from tests.conftest import Floor, client_for
from tests.factories import make_queue

pytestmark = pytest.mark.django_db

THRESHOLDS = {
    "alert_longest_wait_seconds": 120,
    "alert_service_level_percent": 80,
    "alert_callers_waiting": 5,
    "alert_agents_available": 1,
}


def test_an_admin_sets_and_removes_a_queues_thresholds(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    url = f"/api/v1/queues/{queue.pk}/"
    assert client_for(floor_a.supervisor).patch(url, THRESHOLDS, format="json").status_code == 403
    resp = client_for(floor_a.admin).patch(url, THRESHOLDS, format="json")
    assert resp.status_code == 200, resp.content
    assert {k: resp.json()[k] for k in THRESHOLDS} == THRESHOLDS
    queue.refresh_from_db()
    assert queue.alert_service_level_percent == 80
    # Empty: no alert of that kind.
    resp = client_for(floor_a.admin).patch(url, {"alert_callers_waiting": None}, format="json")
    assert resp.json()["alert_callers_waiting"] is None
    # Everyone reads a queue's configuration.
    read = client_for(floor_a.agent_member).get(url).json()
    assert read["alert_longest_wait_seconds"] == 120


@pytest.mark.parametrize(
    "payload",
    [
        {"alert_service_level_percent": 101},
        {"alert_service_level_percent": -1},
        {"alert_longest_wait_seconds": -5},
        {"alert_callers_waiting": "many"},
        {"alert_agents_available": 1.5},
        {"alert_service_level_min_calls": -1},
        {"alert_service_level_min_calls": None},
    ],
)
def test_bad_thresholds_are_400_with_the_field(floor_a: Floor, payload: dict) -> None:
    queue = make_queue(floor_a.org, "support")
    resp = client_for(floor_a.admin).patch(f"/api/v1/queues/{queue.pk}/", payload, format="json")
    assert resp.status_code == 400, resp.content
    assert resp.json()["errors"][0]["attr"] == next(iter(payload))
    queue.refresh_from_db()
    assert all(getattr(queue, name) is None for name in THRESHOLDS)


def test_the_service_level_minimum_of_calls_is_the_queues_own(
    floor_a: Floor, floor_b: Floor
) -> None:
    queue = make_queue(floor_a.org, "support")
    url = f"/api/v1/queues/{queue.pk}/"
    assert client_for(floor_a.agent_member).get(url).json()["alert_service_level_min_calls"] == 10
    resp = client_for(floor_a.admin).patch(
        url, {"alert_service_level_min_calls": 25}, format="json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["alert_service_level_min_calls"] == 25
    # 0: judged from the first call.
    resp = client_for(floor_a.admin).patch(url, {"alert_service_level_min_calls": 0}, format="json")
    assert resp.json()["alert_service_level_min_calls"] == 0
    # Another organization neither reads nor changes it.
    assert client_for(floor_b.admin).get(url).status_code == 404
    other = client_for(floor_b.admin).patch(
        url, {"alert_service_level_min_calls": 3}, format="json"
    )
    assert other.status_code == 404
    listed = client_for(floor_b.admin).get("/api/v1/queues/").json()["results"]
    assert queue.pk not in [q["id"] for q in listed]
    queue.refresh_from_db()
    assert queue.alert_service_level_min_calls == 0


def _alert(queue: CallQueue, *, minutes_ago: int, cleared: bool) -> QueueAlert:
    raised = timezone.now() - timedelta(minutes=minutes_ago)
    return QueueAlert.objects.create(
        organization_id=queue.organization_id,
        queue=queue,
        kind="longest_wait",
        threshold=120,
        value=185.0,
        raised_at=raised,
        cleared_at=raised + timedelta(minutes=1) if cleared else None,
        cleared_value=90.0 if cleared else None,
    )


def test_the_floor_lists_its_own_alerts_for_reports(floor_a: Floor, floor_b: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    old = _alert(queue, minutes_ago=60, cleared=True)
    live = _alert(queue, minutes_ago=5, cleared=False)
    _alert(make_queue(floor_b.org, "support"), minutes_ago=5, cleared=False)

    listed = client_for(floor_a.supervisor).get("/api/v1/queue-alerts/").json()["results"]
    assert [a["id"] for a in listed] == [live.pk, old.pk]  # newest first; not org B's
    assert listed[1] == {
        "id": old.pk,
        "queue": queue.pk,
        "queue_name": "Support",
        "kind": "longest_wait",
        "text": "Longest wait: 185 s (above 120 s)",
        "threshold": 120,
        "value": 185.0,
        "raised_at": listed[1]["raised_at"],
        "cleared_at": listed[1]["cleared_at"],
        "cleared_value": 90.0,
    }
    still = client_for(floor_a.admin).get("/api/v1/queue-alerts/?open=true").json()["results"]
    assert [a["id"] for a in still] == [live.pk]
    since = (timezone.now() - timedelta(minutes=30)).isoformat()
    recent = client_for(floor_a.admin).get("/api/v1/queue-alerts/", {"raised_after": since})
    assert [a["id"] for a in recent.json()["results"]] == [live.pk]


def test_agents_cannot_read_alerts_nor_anyone_write_them(floor_a: Floor, floor_b: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    alert = _alert(queue, minutes_ago=5, cleared=False)
    assert client_for(floor_a.agent_member).get("/api/v1/queue-alerts/").status_code == 403
    url = f"/api/v1/queue-alerts/{alert.pk}/"
    assert client_for(floor_b.supervisor).get(url).status_code == 404
    assert client_for(floor_a.admin).delete(url).status_code == 405
    assert client_for(floor_a.admin).post("/api/v1/queue-alerts/", {}).status_code == 405
