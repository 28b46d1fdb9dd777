"""Twilio queues routed by us, end to end: signed webhooks in, REST calls out to the
fake Twilio API on a real socket, the offers and the call records in PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from contactcenter.enums import AgentState, CallEventType, QueueStrategy
from contactcenter.models import Call, CallEvent, QueueMembership
from contactcenter.services.agents import agent_set_state
from telephony.models import OfferStatus, TwilioOffer
from telephony.twilio.routing.decide import decide
from telephony.twilio.routing.ringing import CLAIM_SECONDS, repair
from tests.conftest import Floor
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.signed import call_sid
from tests.telephony.twilio.twilioside import Ring

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


def who(f: RoutedFloor, rings: list[Ring]) -> list[str]:
    return [f.by_identity(r.identity).name for r in rings]


def names(f: RoutedFloor, *indexes: int) -> list[str]:
    return [f.agents[i].name for i in indexes]


def test_rrmemory_rings_each_free_agent_in_turn_and_the_next_caller_waits(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.RRMEMORY)
    f.available(*f.agents)
    callers = [f.twilio.caller_arrives(n) for n in range(1, 5)]
    rings = f.twilio.rings()
    assert who(f, rings) == names(f, 0, 1, 2)
    assert [r.call for r in rings] == callers[:3]
    assert {r.timeout for r in rings} == {f.queue.ring_timeout_seconds}
    for ring in rings:
        f.twilio.answer(ring)
    # The fourth caller waits: every agent is on a call.
    assert f.twilio.rings() == []
    f.twilio.hang_up(rings[1])
    # The one who just hung up is free, and takes the fourth caller.
    [fourth] = f.twilio.rings()
    assert (fourth.call, who(f, [fourth])) == (callers[3], names(f, 1))
    f.twilio.answer(fourth)
    answered = Call.objects.get(external_id=callers[3])
    assert answered.agent_id == f.agents[1].pk and answered.answered_at is not None


def test_rrmemory_goes_on_after_the_last_agent_offered(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.RRMEMORY)
    f.available(*f.agents)
    offered = []
    for n in range(1, 6):
        f.twilio.caller_arrives(n)
        [ring] = f.twilio.rings()
        offered += who(f, [ring])
        f.twilio.answer(ring)
        f.twilio.hang_up(ring)
    assert offered == names(f, 0, 1, 2, 0, 1)


def test_leastrecent_offers_the_agent_idle_longest(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.LEASTRECENT)
    f.available(*f.agents)
    f.twilio.caller_arrives(1)
    f.twilio.caller_arrives(2)
    first, second = f.twilio.rings()
    assert who(f, [first, second]) == names(f, 0, 1)
    f.twilio.answer(first)
    f.twilio.answer(second)
    f.twilio.hang_up(second)  # B is idle since now, A since a moment later
    f.twilio.hang_up(first)
    f.twilio.caller_arrives(3)
    [third] = f.twilio.rings()
    assert who(f, [third]) == names(f, 2)  # never had a call
    f.twilio.answer(third)
    f.twilio.caller_arrives(4)
    [fourth] = f.twilio.rings()
    assert who(f, [fourth]) == names(f, 1)  # round robin would have rung A


def test_fewestcalls_offers_the_agent_with_fewest_calls(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.FEWESTCALLS)
    a, b = f.agents
    f.available(a)
    for n in (1, 2):
        f.twilio.caller_arrives(n)
        [ring] = f.twilio.rings()
        assert who(f, [ring]) == [a.name]
        f.twilio.answer(ring)
        f.twilio.hang_up(ring)
    f.available(b)
    f.twilio.caller_arrives(3)
    [ring] = f.twilio.rings()
    assert who(f, [ring]) == [b.name]
    f.twilio.answer(ring)
    f.twilio.hang_up(ring)  # A: 2 calls, ended first; B: 1 call, ended last
    f.twilio.caller_arrives(4)
    [ring] = f.twilio.rings()
    assert who(f, [ring]) == [b.name]  # least recent would have rung A


def test_lower_penalty_first_higher_only_when_none_is_free(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.LINEAR)
    a, b = f.agents
    QueueMembership.objects.filter(agent=a).update(penalty=2)
    f.available(a, b)
    f.twilio.caller_arrives(1)
    f.twilio.caller_arrives(2)
    assert who(f, f.twilio.rings()) == [b.name, a.name]


def test_ring_no_answer_is_recorded_and_the_next_agent_rung_after_the_retry_delay(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RRMEMORY)
    f.queue.retry_seconds = 5
    f.queue.save()
    a, b = f.agents
    f.available(a, b)
    sid = f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    assert who(f, [ring]) == [a.name]
    f.twilio.not_taken(ring, "no-answer")
    call = Call.objects.get(external_id=sid)
    missed = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_RING_NO_ANSWER)
    assert list(missed.values_list("agent_id", flat=True)) == [a.pk]
    # The retry delay: nobody is rung at once, even with both agents free.
    assert f.twilio.rings() == []
    assert repair(now=timezone.now() + timedelta(seconds=2)) == 0
    assert repair(now=timezone.now() + timedelta(seconds=6)) == 1
    [again] = f.twilio.rings()
    assert (again.call, who(f, [again])) == (sid, [b.name])
    f.twilio.answer(again)
    call.refresh_from_db()
    assert call.agent_id == b.pk and call.answered_at is not None


def test_a_rejected_call_goes_to_the_next_agent_and_comes_back_when_all_tried(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.LINEAR)
    a, b = f.agents
    f.available(a, b)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.not_taken(ring, "busy")  # A rejects
    [ring] = f.twilio.rings()
    assert who(f, [ring]) == [b.name]
    f.twilio.not_taken(ring, "no-answer")
    [ring] = f.twilio.rings()  # both tried once: A again
    assert who(f, [ring]) == [a.name]
    statuses = TwilioOffer.objects.order_by("pk").values_list("status", flat=True)
    assert list(statuses) == [OfferStatus.MISSED, OfferStatus.MISSED, OfferStatus.RINGING]


def test_wrap_up_holds_the_agent_back_for_the_queues_wrap_up_time(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.wrapup_seconds = 30
    f.queue.save()
    f.available(*f.agents)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    f.twilio.hang_up(ring)
    second = f.twilio.caller_arrives(2)
    assert f.twilio.rings() == []
    assert repair(now=timezone.now() + timedelta(seconds=20)) == 0
    assert repair(now=timezone.now() + timedelta(seconds=31)) == 1
    [ring] = f.twilio.rings()
    assert ring.call == second


def test_paused_and_offline_agents_are_never_offered(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=4, strategy=QueueStrategy.RRMEMORY)
    paused, offline, queue_paused, inactive = f.agents
    agent_set_state(agent=paused, state=AgentState.PAUSED, reason="lunch")
    agent_set_state(agent=offline, state=AgentState.OFFLINE)
    f.available(queue_paused, inactive)
    QueueMembership.objects.filter(agent=queue_paused).update(paused=True)
    inactive.is_active = False
    inactive.save()
    agent_set_state(agent=paused, state=AgentState.WRAP_UP)
    f.twilio.caller_arrives(1)
    assert f.twilio.rings() == []
    assert repair() == 0
    # Becoming available is what offers them the caller.
    f.available(paused)
    assert who(f, f.twilio.rings()) == [paused.name]


def test_a_caller_who_hangs_up_while_ringing_frees_the_agent(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.available(*f.agents)
    first = f.twilio.caller_arrives(1)
    second = f.twilio.caller_arrives(2)
    [ring] = f.twilio.rings()
    assert ring.call == first
    f.twilio.caller_hangs_up(first)
    [ring] = f.twilio.rings()
    assert ring.call == second
    assert TwilioOffer.objects.get(call__external_id=first).status == OfferStatus.CANCELED


def test_a_process_killed_between_choosing_and_ringing_leaves_the_caller_served(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    [agent] = f.agents
    sid = f.twilio.caller_arrives(1)  # nobody free yet
    agent.state = AgentState.AVAILABLE  # the state, without the routing it asks for
    agent.save(update_fields=["state"])
    now = timezone.now()
    # What a process commits before it dies: the claim, and no call to Twilio.
    [claim] = decide(organization_id=f.floor.org.pk, now=now).offers
    assert f.twilio.rings() == []
    # While the claim stands, nobody else takes the agent or the caller.
    assert repair(now=now + timedelta(seconds=CLAIM_SECONDS - 1)) == 0
    assert repair(now=now + timedelta(seconds=CLAIM_SECONDS + 1)) == 1
    [ring] = f.twilio.rings()
    assert (ring.call, ring.identity) == (sid, agent.twilio_identity)
    claim.refresh_from_db()
    assert claim.status == OfferStatus.EXPIRED
    f.twilio.answer(ring)
    assert Call.objects.get(external_id=sid).agent_id == agent.pk


def test_the_database_refuses_a_second_active_offer_for_an_agent(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.available(*f.agents)
    f.twilio.caller_arrives(1)
    f.twilio.rings(1)
    second = f.twilio.caller_arrives(2)
    offer = TwilioOffer.objects.get()
    with pytest.raises(IntegrityError):
        TwilioOffer.objects.create(
            organization_id=offer.organization_id,
            call=Call.objects.get(external_id=second),
            agent=offer.agent,
            queue=offer.queue,
            status=OfferStatus.CLAIMED,
            created_at=timezone.now(),
        )


def test_an_agent_who_lets_the_set_number_of_rings_go_is_paused(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.LINEAR)
    f.queue.pause_after_misses = 2
    f.queue.save()
    a, b = f.agents
    f.available(a)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.not_taken(ring, "no-answer")
    a.refresh_from_db()
    assert a.state == AgentState.AVAILABLE  # one miss: still offered
    [ring] = f.twilio.rings()
    f.twilio.not_taken(ring, "no-answer")
    a.refresh_from_db()
    assert (a.state, a.state_reason) == (AgentState.PAUSED, "Missed calls")
    assert f.twilio.rings() == []
    f.available(b)
    [ring] = f.twilio.rings()
    assert who(f, [ring]) == [b.name]


def test_a_queue_that_does_not_join_empty_turns_callers_away_while_nobody_can_answer(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.join_empty = False
    f.queue.save()
    [agent] = f.agents
    agent_set_state(agent=agent, state=AgentState.PAUSED, reason="lunch")
    turned_away = f.caller_dials(call_sid(90))
    assert b"<Hangup" in turned_away.content and b"<Enqueue" not in turned_away.content
    assert Call.objects.get(external_id=call_sid(90)).queue_id is None
    # On a call or in wrap-up an agent still counts: only paused, offline or absent not.
    agent_set_state(agent=agent, state=AgentState.WRAP_UP)
    f.twilio.caller_arrives(91)


def test_a_caller_twilio_no_longer_has_is_ended_and_the_agent_takes_the_next(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    gone = f.twilio.caller_arrives(1)
    second = f.twilio.caller_arrives(2)
    twilio_api.gone.add(gone)  # hung up; the status callback saying so never came
    f.available(*f.agents)
    [ring] = f.twilio.rings()
    assert ring.call == second
    call = Call.objects.get(external_id=gone)
    assert call.ended_at is not None and call.answered_at is None
    assert TwilioOffer.objects.get(call=call).status == OfferStatus.MISSED
