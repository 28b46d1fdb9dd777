"""The callbacks API: schedule, list, cancel; scoped to the caller's organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.enums import AgentState, Role
from contactcenter.models import Agent, AuditEntry, Callback, CallbackStatus, QueueMembership
from contactcenter.services.callback_offers import callbacks_offer
from contactcenter.services.callbacks import callback_schedule
from tests.conftest import Floor, client_for
from tests.factories import make_agent, make_member, make_queue

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


def _offered_to(floor: Floor) -> Callback:
    """A callback of the floor's queue offered to its agent (as the bridge offers them)."""
    queue = make_queue(floor.org)
    QueueMembership.objects.create(organization=floor.org, queue=queue, agent=floor.agent)
    Agent.objects.filter(pk=floor.agent.pk).update(state=AgentState.AVAILABLE)
    callback = callback_schedule(queue=queue, number="+15557650001")
    (offered,) = callbacks_offer(organization_id=floor.org.pk, now=timezone.now())
    assert offered.pk == callback.pk and offered.agent_id == floor.agent.pk
    return offered


def test_an_agent_sees_the_callback_offered_to_them_and_no_one_else_does(
    floor_a: Floor, floor_b: Floor
) -> None:
    assert client_for(floor_a.agent_member).get(f"{URL}offer/").status_code == 204
    callback = _offered_to(floor_a)
    mine = client_for(floor_a.agent_member).get(f"{URL}offer/")
    assert mine.status_code == 200
    assert (mine.json()["id"], mine.json()["status"]) == (callback.pk, "offered")
    assert mine.json()["offered_at"] is not None
    # A member with no agent takes no callbacks; another organization's agent sees none.
    assert client_for(floor_a.supervisor).get(f"{URL}offer/").status_code == 403
    assert client_for(floor_b.agent_member).get(f"{URL}offer/").status_code == 204
    assert client_for(floor_b.agent_member).post(f"{URL}{callback.pk}/accept/").status_code == 404


def test_only_the_agent_offered_declines_and_then_it_waits_for_another(floor_a: Floor) -> None:
    callback = _offered_to(floor_a)
    other = make_member(floor_a.org, Role.AGENT)
    make_agent(floor_a.org, other)
    refused = client_for(other).post(f"{URL}{callback.pk}/decline/")
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (
        409,
        "callback_not_offered",
    )
    declined = client_for(floor_a.agent_member).post(f"{URL}{callback.pk}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "waiting"
    assert client_for(floor_a.agent_member).get(f"{URL}offer/").status_code == 204


@pytest.mark.django_db(transaction=True)
def test_accepting_without_a_pbx_fails_the_attempt_and_it_is_retried(floor_a: Floor) -> None:
    callback = _offered_to(floor_a)
    resp = client_for(floor_a.agent_member).post(f"{URL}{callback.pk}/accept/")
    assert (resp.status_code, resp.json()["errors"][0]["code"]) == (409, "no_pbx")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.WAITING,
        1,
        "failed",
    )
    assert callback.next_attempt_at > timezone.now()
    assert AuditEntry.objects.filter(action="accept", object_id=str(callback.pk)).exists()
