"""The callbacks API: schedule, list, cancel; scoped to the caller's organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.models import AuditEntry, Callback, CallbackStatus
from tests.conftest import Floor, client_for
from tests.factories import make_queue

pytestmark = pytest.mark.django_db

URL = "/api/v1/callbacks/"


def test_an_agent_schedules_a_callback_for_later(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    at = timezone.now() + timedelta(hours=2)
    resp = client_for(floor_a.agent_member).post(
        URL,
        {"queue": queue.pk, "number": "(555) 765-0001", "at": at.isoformat(), "note": "after 3"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["number"], body["status"], body["attempts"]) == ("+15557650001", "waiting", 0)
    callback = Callback.objects.get(pk=body["id"])
    assert callback.next_attempt_at == at and callback.place_at == at
    assert AuditEntry.objects.filter(action="create", object_id=str(callback.pk)).exists()


def test_a_number_that_is_none_is_refused_and_nothing_is_kept(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    resp = client_for(floor_a.agent_member).post(
        URL, {"queue": queue.pk, "number": "call me"}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "number"
    assert not Callback.objects.exists()


def test_another_organizations_queue_and_callbacks_are_out_of_reach(
    floor_a: Floor, floor_b: Floor
) -> None:
    theirs = make_queue(floor_b.org)
    client = client_for(floor_a.supervisor)
    resp = client.post(URL, {"queue": theirs.pk, "number": "+15557650001"}, format="json")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "queue"
    their_callback = client_for(floor_b.admin).post(
        URL, {"queue": theirs.pk, "number": "+15557650001"}, format="json"
    )
    assert their_callback.status_code == 201
    assert client.get(URL).json()["results"] == []
    pk = their_callback.json()["id"]
    assert client.post(f"{URL}{pk}/cancel/").status_code == 404
    assert Callback.objects.get(pk=pk).status == CallbackStatus.WAITING


def test_cancel_a_waiting_callback_once(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    client = client_for(floor_a.supervisor)
    pk = client.post(URL, {"queue": queue.pk, "number": "+15557650001"}, format="json").json()["id"]
    resp = client.post(f"{URL}{pk}/cancel/")
    assert resp.status_code == 200 and resp.json()["status"] == "canceled"
    again = client.post(f"{URL}{pk}/cancel/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "callback_not_waiting"
    assert [row["id"] for row in client.get(URL, {"status": "canceled"}).json()["results"]] == [pk]
