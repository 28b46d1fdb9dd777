"""A Twilio agent's state over their calls, as an Asterisk agent's: ringing while their
client rings, on a call from the answer, then available again (or in the queue's wrap-up
first); and the routing offers nobody to an agent on a call. Signed webhooks in, REST
calls out to the fake API, PostgreSQL; the states read as the console, the wallboard
and the agent reports read them (Agent, AgentStateLog, the wallboard's figures)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.enums import AgentState, QueueStrategy
from contactcenter.models import Agent, AgentStateLog, AuditEntry, Call, QueueMembership
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services.agents import agent_choose_state
from contactcenter.transitions import AGENT_AFTER_CALL_REASON
from telephony.twilio.callbacks import Hints, webhook_path
from telephony.twilio.routing.ringing import repair
from tests.conftest import Floor
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.signed import OUR_NUMBER, call_sid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


def state(agent: Agent) -> tuple[str, str]:
    agent.refresh_from_db()
    return agent.state, agent.state_reason


def log(agent: Agent) -> list[str]:
    return list(
        AgentStateLog.objects.filter(agent=agent)
        .order_by("started_at", "pk")
        .values_list("state", flat=True)
    )


def on_wallboard(f: RoutedFloor) -> dict[str, int]:
    [row] = figures_by_queue(organization=f.floor.org)
    return {k: v for k, v in row.agents_by_state.items() if v}


def test_a_routed_call_rings_then_is_on_call_then_available_on_the_console_and_wallboard(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    [agent] = f.agents
    f.available(agent)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.ringing(ring)
    assert state(agent) == (AgentState.RINGING, "")
    assert on_wallboard(f) == {AgentState.RINGING: 1}
    f.twilio.answered(ring)
    assert state(agent) == (AgentState.ON_CALL, "")
    assert on_wallboard(f) == {AgentState.ON_CALL: 1}
    assert Call.objects.get(external_id=ring.call).agent_id == agent.pk
    f.twilio.hang_up(ring)
    assert state(agent) == (AgentState.AVAILABLE, "")
    assert on_wallboard(f) == {AgentState.AVAILABLE: 1}
    # The agent's report reads the same intervals as an Asterisk agent's.
    assert log(agent) == [
        AgentState.AVAILABLE,
        AgentState.RINGING,
        AgentState.ON_CALL,
        AgentState.AVAILABLE,
    ]
    assert AgentStateLog.objects.filter(agent=agent, ended_at__isnull=True).count() == 1


def test_an_unanswered_ring_makes_the_agent_available_again(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.LINEAR)
    a, b = f.agents
    f.available(a)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.not_taken(ring, "no-answer")
    assert state(a) == (AgentState.AVAILABLE, "")
    assert log(a) == [AgentState.AVAILABLE, AgentState.RINGING, AgentState.AVAILABLE]
    assert state(b) == (AgentState.OFFLINE, "")


def test_the_queues_wrap_up_time_is_wrap_up_then_available_and_offered_the_next_caller(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.wrapup_seconds = 30
    f.queue.save()
    [agent] = f.agents
    f.available(agent)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    f.twilio.hang_up(ring)
    assert state(agent) == (AgentState.WRAP_UP, AGENT_AFTER_CALL_REASON)
    assert on_wallboard(f) == {AgentState.WRAP_UP: 1}
    second = f.twilio.caller_arrives(2)
    assert f.twilio.rings() == []
    assert repair(now=timezone.now() + timedelta(seconds=20)) == 0
    assert state(agent) == (AgentState.WRAP_UP, AGENT_AFTER_CALL_REASON)
    # The wrap-up over: available again, and the routing offers them the next caller.
    assert repair(now=timezone.now() + timedelta(seconds=31)) == 1
    [ring] = f.twilio.rings()
    assert ring.call == second and ring.identity == agent.twilio_identity
    assert state(agent) == (AgentState.AVAILABLE, "")
    f.twilio.ringing(ring)
    assert state(agent) == (AgentState.RINGING, "")
    assert log(agent) == [
        AgentState.AVAILABLE,
        AgentState.RINGING,
        AgentState.ON_CALL,
        AgentState.WRAP_UP,
        AgentState.AVAILABLE,
        AgentState.RINGING,
    ]


def test_a_wrap_up_the_agent_chose_is_not_ended_by_the_routing(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    [agent] = f.agents
    f.available(agent)
    agent_choose_state(agent=agent, state=AgentState.WRAP_UP)
    f.twilio.caller_arrives(1)
    assert repair(now=timezone.now() + timedelta(seconds=60)) == 0
    assert state(agent) == (AgentState.WRAP_UP, "")
    assert f.twilio.rings() == []


def test_a_pause_chosen_during_the_call_holds_after_it_and_nobody_is_offered(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    [agent] = f.agents
    f.available(agent)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    # On a call the phone's state stays; the choice is for after the call.
    assert agent_choose_state(agent=agent, state=AgentState.PAUSED, reason="lunch").state == (
        AgentState.ON_CALL
    )
    assert state(agent) == (AgentState.ON_CALL, "")
    assert set(QueueMembership.objects.filter(agent=agent).values_list("paused", flat=True)) == {
        True
    }
    entry = AuditEntry.objects.get(action="state_choice", object_id=str(agent.pk))
    assert entry.details == {"state": AgentState.PAUSED, "reason": "lunch", "after_call": True}
    f.twilio.caller_arrives(2)
    f.twilio.hang_up(ring)
    assert state(agent) == (AgentState.PAUSED, "lunch")
    assert f.twilio.rings() == []
    assert repair() == 0
    agent_choose_state(agent=agent, state=AgentState.AVAILABLE)
    assert not QueueMembership.objects.filter(agent=agent, paused=True).exists()
    [ring] = f.twilio.rings()
    assert ring.call == call_sid(2)


def test_the_ring_all_agents_who_did_not_answer_are_available_again(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.RINGALL)
    a, b, c = f.agents
    f.available(a, b, c)
    f.twilio.caller_arrives(1)
    rings = {f.by_identity(r.identity).pk: r for r in f.twilio.rings()}
    f.twilio.ringing(rings[a.pk])
    for other in (b, c):
        f.twilio._leg(rings[other.pk], "ringing")
    assert {state(x)[0] for x in (a, b, c)} == {AgentState.RINGING}
    f.twilio.answered(rings[a.pk])
    # Twilio hangs the other legs up; their offers are over at once, whatever comes.
    assert state(a)[0] == AgentState.ON_CALL
    assert (state(b)[0], state(c)[0]) == (AgentState.AVAILABLE, AgentState.AVAILABLE)
    f.twilio.canceled(rings[b.pk])  # a late "canceled" of a leg changes nothing more
    assert state(b)[0] == AgentState.AVAILABLE
    assert on_wallboard(f) == {AgentState.ON_CALL: 1, AgentState.AVAILABLE: 2}


def test_an_agent_on_a_call_from_the_browser_is_on_call_and_offered_nobody_until_it_ends(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(
        floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY, caller_id=OUR_NUMBER
    )
    [agent] = f.agents
    f.available(agent)
    browser = call_sid(500)
    f.browser_call(agent, browser, webhook_path("client"), "ringing")
    assert state(agent) == (AgentState.ON_CALL, "")
    # A caller now: the agent is on a call, and nobody else is free.
    waiting = f.twilio.caller_arrives(1)
    assert f.twilio.rings() == []
    assert repair() == 0
    by = Hints(by=f"client:{agent.twilio_identity}")
    f.browser_call(
        agent,
        browser,
        webhook_path("dial-result", by),
        "in-progress",
        DialCallStatus="completed",
        DialCallSid=call_sid(501),
        DialCallDuration="0",
    )
    # Off the phone: available, and the waiting caller rings them at once.
    [ring] = f.twilio.rings()
    assert ring.call == waiting and ring.identity == agent.twilio_identity
    assert state(agent) == (AgentState.AVAILABLE, "")
    f.browser_call(agent, browser, webhook_path("status"), "completed", CallDuration="41")
    assert state(agent) == (AgentState.AVAILABLE, "")
    assert log(agent) == [AgentState.AVAILABLE, AgentState.ON_CALL, AgentState.AVAILABLE]


def test_an_agent_in_no_queue_returns_to_the_state_they_had_after_a_browser_call(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(
        floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY, caller_id=OUR_NUMBER
    )
    [agent] = f.agents
    QueueMembership.objects.filter(agent=agent).delete()
    agent_choose_state(agent=agent, state=AgentState.PAUSED, reason="outbound only")
    browser = call_sid(510)
    f.browser_call(agent, browser, webhook_path("client"), "ringing")
    assert state(agent) == (AgentState.ON_CALL, "")
    f.browser_call(agent, browser, webhook_path("status"), "completed", CallDuration="5")
    assert state(agent) == (AgentState.PAUSED, "outbound only")
