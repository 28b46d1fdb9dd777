"""A supervisor managing a floor our routing serves on Twilio (telephony/twilio/
managing.py): pause and resume with a reason, log out, add to and remove from a queue
with a penalty, move a waiting caller to another queue or to one agent, hang up a call;
each through the REST API as on Asterisk, refused cleanly. Signed webhooks in, REST
calls out to the fake API (twilioside.py sends what Twilio would), PostgreSQL; the
records after each: the agents' states and their intervals, the memberships, the call,
its timeline and the audit."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from rest_framework.test import APIClient

from contactcenter.enums import AgentState, CallEventType, CallStatus, QueueStrategy
from contactcenter.models import (
    Agent,
    AgentStateLog,
    AuditEntry,
    Call,
    CallEvent,
    CallQueue,
    QueueMembership,
)
from contactcenter.services.agents import agent_set_state
from telephony.models import ExitReason, OfferStatus, TwilioOffer, TwilioQueueExit
from telephony.twilio.managing import MOVED_REASON
from telephony.twilio.routing.decide import waiting_calls
from tests.conftest import Floor, client_for
from tests.factories import make_agent, make_queue
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


def states(agent: Agent) -> list[tuple[str, str]]:
    """The agent's state intervals, in order: (state, reason)."""
    return list(
        AgentStateLog.objects.filter(agent=agent)
        .order_by("started_at", "pk")
        .values_list("state", "reason")
    )


def asked(action: str) -> list[Any]:
    """The audit entries of one supervisor request: (actor, ok)."""
    return list(
        AuditEntry.objects.filter(action=action)
        .order_by("pk")
        .values_list("actor_user_id", "details__ok")
    )


def supervisor(f: RoutedFloor) -> APIClient:
    return client_for(f.floor.supervisor)


def post(client: APIClient, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, format="json")


def refused(response: Any, status: int = 400) -> tuple[str, str]:
    """The refusal's (code, words); ``pbx_failed`` is 400, a conflict of state 409."""
    assert response.status_code == status, response.content
    [error] = response.json()["errors"]
    return error["code"], error["detail"]


@pytest.fixture
def two(floor_a: Floor, twilio_api: FakeTwilioAPI) -> RoutedFloor:
    """Alice and Bob in the queue, both available."""
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RRMEMORY)
    f.available(*f.agents)
    return f


def test_a_paused_agent_is_offered_no_caller_until_resumed(two: RoutedFloor) -> None:
    f = two
    alice, bob = f.agents
    user = f.floor.supervisor.user_id
    paused = post(
        supervisor(f), f"/api/v1/agents/{alice.pk}/pause/", {"paused": True, "reason": "coaching"}
    )
    assert paused.status_code == 200, paused.content
    assert paused.json()["agent"] == {"id": alice.pk, "state": "paused", "state_reason": "coaching"}
    assert paused.json()["pbx"]["ok"] is True
    alice.refresh_from_db()
    assert (alice.state, alice.state_reason) == (AgentState.PAUSED, "coaching")
    assert list(
        QueueMembership.objects.filter(agent=alice).values_list("paused", "paused_reason")
    ) == [(True, "coaching")]
    assert states(alice) == [(AgentState.AVAILABLE, ""), (AgentState.PAUSED, "coaching")]
    # A caller: only Bob rings.
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    assert ring.identity == bob.twilio_identity
    f.twilio.answer(ring)
    # Resumed: Alice is offered the next caller.
    resumed = post(supervisor(f), f"/api/v1/agents/{alice.pk}/pause/", {"paused": False})
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["agent"]["state"] == AgentState.AVAILABLE
    f.twilio.caller_arrives(2)
    [second] = f.twilio.rings()
    assert second.identity == alice.twilio_identity
    assert states(alice) == [
        (AgentState.AVAILABLE, ""),
        (AgentState.PAUSED, "coaching"),
        (AgentState.AVAILABLE, ""),
    ]
    assert asked("pbx.queue_pause") == [(user, True), (user, True)]
    assert AuditEntry.objects.filter(action="state_change", object_id=str(alice.pk)).count() == 3


def test_a_logged_out_agent_is_offline_and_offered_nothing(two: RoutedFloor) -> None:
    f = two
    alice, bob = f.agents
    out = post(supervisor(f), f"/api/v1/agents/{alice.pk}/log-out/")
    assert out.status_code == 200, out.content
    [answer] = out.json()["pbx"]
    assert answer["ok"] is True
    alice.refresh_from_db()
    assert alice.state == AgentState.OFFLINE
    assert states(alice) == [(AgentState.AVAILABLE, ""), (AgentState.OFFLINE, "")]
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    assert ring.identity == bob.twilio_identity
    # Bob is on a call now: he cannot be logged out until it ends.
    f.twilio.answer(ring)
    code, _ = refused(post(supervisor(f), f"/api/v1/agents/{bob.pk}/log-out/"), 409)
    assert code == "on_call"
    bob.refresh_from_db()
    assert bob.state == AgentState.ON_CALL
    assert asked("pbx.log_out") == [(f.floor.supervisor.user_id, True)]


def test_queue_membership_with_penalty_orders_the_offers(two: RoutedFloor) -> None:
    f = two
    alice, bob = f.agents
    sales = make_queue(f.floor.org, "sales")
    sales.strategy = QueueStrategy.RRMEMORY
    sales.save()
    client = supervisor(f)
    for agent, penalty in ((alice, 5), (bob, 0)):
        added = post(
            client, f"/api/v1/agents/{agent.pk}/queues/", {"queue": sales.pk, "penalty": penalty}
        )
        assert added.status_code == 200, added.content
        assert added.json()["pbx"]["ok"] is True
    members = QueueMembership.objects.filter(queue=sales).order_by("penalty")
    assert list(members.values_list("agent_id", "penalty", "is_logged_in")) == [
        (bob.pk, 0, True),
        (alice.pk, 5, True),
    ]
    # A caller of sales: Bob first, his penalty is the lower.
    f.twilio.queue = "sales"
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    assert ring.identity == bob.twilio_identity
    f.twilio.answer(ring)
    # Bob removed from sales: the next sales caller rings Alice.
    removed = post(client, f"/api/v1/agents/{bob.pk}/queues/{sales.pk}/remove/")
    assert removed.status_code == 200, removed.content
    assert QueueMembership.objects.get(queue=sales, agent=bob).is_logged_in is False
    f.twilio.hang_up(ring)
    agent_set_state(agent=bob, state=AgentState.AVAILABLE)
    f.twilio.caller_arrives(2)
    [second] = f.twilio.rings()
    assert second.identity == alice.twilio_identity
    # Removing him again: our routing says no, nothing changes.
    again = post(client, f"/api/v1/agents/{bob.pk}/queues/{sales.pk}/remove/")
    assert refused(again) == ("pbx_failed", "The agent is not in Sales.")
    user = f.floor.supervisor.user_id
    assert asked("pbx.queue_add") == [(user, True), (user, True)]
    assert asked("pbx.queue_remove") == [(user, True), (user, False)]


def waiting(f: RoutedFloor, n: int) -> tuple[str, Call]:
    """Caller ``n`` waits: nobody in their queue is available."""
    sid = f.twilio.caller_arrives(n)
    assert f.twilio.rings() == []
    return sid, Call.objects.get(external_id=sid)


@pytest.fixture
def idle(floor_a: Floor, twilio_api: FakeTwilioAPI) -> RoutedFloor:
    """Alice and Bob in the queue, neither available: callers wait."""
    return routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RRMEMORY)


def test_a_waiting_caller_moved_to_another_queue_keeps_their_wait(
    idle: RoutedFloor, twilio_api: FakeTwilioAPI
) -> None:
    f = idle
    sales = make_queue(f.floor.org, "sales")
    helper = make_agent(f.floor.org)
    QueueMembership.objects.create(organization=f.floor.org, queue=sales, agent=helper)
    sid, call = waiting(f, 1)
    assert call.status == CallStatus.QUEUED
    moved = post(supervisor(f), f"/api/v1/calls/{call.pk}/move/", {"queue": sales.pk})
    assert moved.status_code == 200, moved.content
    assert moved.json()["pbx"]["ok"] is True
    # Twilio was asked to take the caller out of support, to our queue-exit webhook.
    assert f.twilio.rings() == []
    [(redirected, path)] = f.twilio.redirects
    assert redirected == sid and path.startswith("/telephony/twilio/queue-exit/")
    exit_ = TwilioQueueExit.objects.get(call=call)
    assert (exit_.reason, exit_.queue_id, exit_.to_queue_id) == (
        ExitReason.MOVED,
        f.queue.pk,
        sales.pk,
    )
    assert exit_.redirected_at is not None
    f.twilio.left_queue(sid)
    enqueue = ElementTree.fromstring(f.twilio.follow(sid, path).content).find("Enqueue")
    assert enqueue is not None and enqueue.text == "sales"
    # The routing sees the caller in sales, in the place their first join gave them.
    [line] = waiting_calls(f.floor.org.pk)
    assert (line.pk, line.queue, line.queued_at) == (call.pk, sales, call.queued_at)
    # Sales' member is rung with the caller; the answer's wait counts from the first join.
    agent_set_state(agent=helper, state=AgentState.AVAILABLE)
    [ring] = f.twilio.rings()
    assert (ring.call, ring.identity) == (sid, helper.twilio_identity)
    f.twilio.answer(ring)
    record = Call.objects.get(pk=call.pk)
    assert Call.objects.filter(organization=f.floor.org).count() == 1
    assert record.agent_id == helper.pk and record.answered_at is not None
    assert record.queue_id == f.queue.pk and record.queued_at == call.queued_at
    assert record.queued_at is not None
    assert record.wait_seconds == int((record.answered_at - record.queued_at).total_seconds())
    joined = CallEvent.objects.filter(call=call, type=CallEventType.QUEUE_JOINED).order_by("pk")
    assert [e.details["queue"] for e in joined] == ["support", "sales"]
    assert TwilioOffer.objects.get(call=call).queue_id == sales.pk
    [entry] = AuditEntry.objects.filter(action="pbx.move_to_queue")
    assert entry.actor_user_id == f.floor.supervisor.user_id
    assert (entry.details["queue_id"], entry.details["ok"]) == (sales.pk, True)


def test_moving_a_caller_twilio_refuses_or_who_is_not_waiting_is_refused(
    idle: RoutedFloor, twilio_api: FakeTwilioAPI
) -> None:
    f = idle
    sales = make_queue(f.floor.org, "sales")
    sid, call = waiting(f, 1)
    client = supervisor(f)
    same = post(client, f"/api/v1/calls/{call.pk}/move/", {"queue": f.queue.pk})
    assert refused(same, 409)[0] == "same_queue"
    # The caller hung up and Twilio's callback was lost: Twilio says the call is gone.
    twilio_api.gone.add(sid)
    gone = post(client, f"/api/v1/calls/{call.pk}/move/", {"queue": sales.pk})
    assert refused(gone) == ("pbx_failed", "Unable to update record: Call not found")
    assert not TwilioQueueExit.objects.exists()
    record = Call.objects.get(pk=call.pk)
    assert record.ended_at is not None  # closed as Twilio says it is
    over = post(client, f"/api/v1/calls/{call.pk}/move/", {"queue": sales.pk})
    assert refused(over, 409)[0] == "not_waiting"
    assert asked("pbx.move_to_queue") == [(f.floor.supervisor.user_id, False)]


def test_a_waiting_caller_moved_to_an_agent_is_offered_to_that_agent_only(
    idle: RoutedFloor, twilio_api: FakeTwilioAPI
) -> None:
    f = idle
    alice, bob = f.agents
    # Carol is in no queue: the routing would never offer her this caller.
    carol = make_agent(f.floor.org)
    agent_set_state(agent=carol, state=AgentState.AVAILABLE)
    sid, call = waiting(f, 1)
    client = supervisor(f)
    busy = post(client, f"/api/v1/calls/{call.pk}/move/", {"agent": bob.pk})
    assert refused(busy) == ("pbx_failed", f"{bob.name} is not free to take a call.")
    moved = post(client, f"/api/v1/calls/{call.pk}/move/", {"agent": carol.pk})
    assert moved.status_code == 200, moved.content
    [ring] = f.twilio.rings()
    assert (ring.call, ring.identity) == (sid, carol.twilio_identity)
    offer = TwilioOffer.objects.get(call=call)
    assert (offer.agent_id, offer.status, offer.reason) == (
        carol.pk,
        OfferStatus.RINGING,
        MOVED_REASON,
    )
    # Alice becoming available meanwhile is not rung: the caller is being offered.
    agent_set_state(agent=alice, state=AgentState.AVAILABLE)
    assert f.twilio.rings() == []
    f.twilio.answer(ring)
    record = Call.objects.get(pk=call.pk)
    assert (record.status, record.agent_id) == (CallStatus.IN_PROGRESS, carol.pk)
    assert Call.objects.filter(organization=f.floor.org).count() == 1
    assert record.queued_at is not None and record.answered_at is not None
    assert record.wait_seconds == int((record.answered_at - record.queued_at).total_seconds())
    carol.refresh_from_db()
    assert carol.state == AgentState.ON_CALL
    assert asked("pbx.redirect") == [
        (f.floor.supervisor.user_id, False),
        (f.floor.supervisor.user_id, True),
    ]
    offered = AuditEntry.objects.filter(action="routing.offer", object_id=str(call.pk))
    assert [e.details["why"] for e in offered] == [MOVED_REASON]


def connected(f: RoutedFloor) -> tuple[Any, Call]:
    alice = f.agents[0]
    f.available(alice)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    return ring, Call.objects.get(external_id=ring.call)


def test_a_stuck_call_is_hung_up_over_rest_and_closed_by_twilios_callback(
    idle: RoutedFloor, twilio_api: FakeTwilioAPI
) -> None:
    f = idle
    ring, call = connected(f)
    client = supervisor(f)
    hung = post(client, f"/api/v1/calls/{call.pk}/hang-up/")
    assert hung.status_code == 200, hung.content
    assert hung.json()["pbx"]["ok"] is True
    update = twilio_api.updates[-1]
    assert (update.call_sid, update.fields.get("Status")) == (ring.call, "completed")
    # The record is open until Twilio says the call is over.
    assert Call.objects.get(pk=call.pk).ended_at is None
    f.twilio.hang_up(ring)
    record = Call.objects.get(pk=call.pk)
    assert record.status == CallStatus.COMPLETED and record.ended_at is not None
    # Nothing left to hang up.
    again = post(client, f"/api/v1/calls/{call.pk}/hang-up/")
    assert refused(again) == ("pbx_failed", "That call is not live on Twilio.")
    user = f.floor.supervisor.user_id
    assert asked("pbx.hangup_call") == [(user, True), (user, False)]


def test_twilio_refusing_the_hang_up_is_said_with_its_words(
    idle: RoutedFloor, twilio_api: FakeTwilioAPI
) -> None:
    ring, call = connected(idle)
    twilio_api.gone.add(ring.call)
    answer = post(supervisor(idle), f"/api/v1/calls/{call.pk}/hang-up/")
    assert refused(answer) == ("pbx_failed", "Unable to update record: Call not found")
    assert Call.objects.get(pk=call.pk).ended_at is None


def test_an_agent_and_another_organization_are_refused(
    idle: RoutedFloor, floor_b: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = idle
    alice = f.agents[0]
    _, call = waiting(f, 1)
    queue: CallQueue = f.queue
    requests: list[tuple[str, dict[str, Any]]] = [
        (f"/api/v1/agents/{alice.pk}/pause/", {"paused": True, "reason": "coaching"}),
        (f"/api/v1/agents/{alice.pk}/log-out/", {}),
        (f"/api/v1/agents/{alice.pk}/queues/", {"queue": queue.pk, "penalty": 0}),
        (f"/api/v1/agents/{alice.pk}/queues/{queue.pk}/remove/", {}),
        (f"/api/v1/calls/{call.pk}/hang-up/", {}),
        (f"/api/v1/calls/{call.pk}/move/", {"agent": alice.pk}),
    ]
    for url, body in requests:
        assert post(client_for(f.floor.agent_member), url, body).status_code == 403, url
        assert post(client_for(floor_b.supervisor), url, body).status_code == 404, url
    assert not AuditEntry.objects.filter(action__startswith="pbx.").exists()
    assert twilio_api.updates == []
    alice.refresh_from_db()
    assert alice.state == AgentState.OFFLINE
