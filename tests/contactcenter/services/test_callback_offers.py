"""contactcenter.services.callback_offers on the real database: a due callback is offered
to one free member of its queue, never two at once to one agent; a declined or lapsed
offer goes to someone else first; only the agent offered may take it; the placed call's
record settles the attempt (answered, retried on the schedule, given up)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contactcenter.enums import AgentState, CallDirection, CallStatus
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call, Callback, CallbackStatus, CallQueue, QueueMembership
from contactcenter.services.callback_offers import (
    callback_attempts_settle,
    callback_offer_accept,
    callback_offer_decline,
    callback_offers_expire,
    callbacks_offer,
)
from contactcenter.services.callbacks import callback_schedule
from tests.conftest import Floor
from tests.factories import make_agent, make_call, make_queue

pytestmark = pytest.mark.django_db


def _free(agent: Agent, queue: CallQueue, penalty: int = 0) -> None:
    QueueMembership.objects.create(
        organization_id=queue.organization_id, queue=queue, agent=agent, penalty=penalty
    )
    Agent.objects.filter(pk=agent.pk).update(
        state=AgentState.AVAILABLE, state_changed_at=timezone.now()
    )


def _status(callback: Callback) -> tuple[str, int | None]:
    callback.refresh_from_db()
    return callback.status, callback.agent_id


def test_a_due_callback_goes_to_the_free_member_with_the_lowest_penalty(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue, penalty=1)
    _free(floor_a.other_agent, queue, penalty=0)
    now = timezone.now()
    later = callback_schedule(queue=queue, number="+15557650002", at=now + timedelta(hours=1))
    due = callback_schedule(queue=queue, number="+15557650001")

    (offered,) = callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())

    assert offered.pk == due.pk
    assert _status(due) == (CallbackStatus.OFFERED, floor_a.other_agent.pk)
    assert due.offered_at is not None
    assert _status(later) == (CallbackStatus.WAITING, None)  # its time has not come


def test_an_agent_is_offered_one_callback_at_a_time(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue)
    first = callback_schedule(queue=queue, number="+15557650001")
    second = callback_schedule(queue=queue, number="+15557650002")

    assert len(callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())) == 1
    assert callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now()) == []
    assert _status(first)[0] == CallbackStatus.OFFERED  # the older place first
    assert _status(second)[0] == CallbackStatus.WAITING


def test_paused_busy_and_logged_out_members_are_not_offered(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue)
    _free(floor_a.other_agent, queue)
    QueueMembership.objects.filter(agent=floor_a.agent).update(paused=True)
    make_call(floor_a.org, agent=floor_a.other_agent, status=CallStatus.IN_PROGRESS)
    third = make_agent(floor_a.org)
    _free(third, queue)
    QueueMembership.objects.filter(agent=third).update(is_logged_in=False)
    callback = callback_schedule(queue=queue, number="+15557650001")

    assert callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now()) == []
    assert _status(callback) == (CallbackStatus.WAITING, None)


def test_a_declined_or_lapsed_offer_goes_to_another_agent_first(
    floor_a: Floor, settings: object
) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue)
    callback = callback_schedule(queue=queue, number="+15557650001")
    callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())
    assert _status(callback) == (CallbackStatus.OFFERED, floor_a.agent.pk)

    _free(floor_a.other_agent, queue)
    callback_offer_decline(callback_id=callback.pk, agent=floor_a.agent)
    assert _status(callback)[0] == CallbackStatus.WAITING
    callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())
    assert _status(callback) == (CallbackStatus.OFFERED, floor_a.other_agent.pk)

    # Nobody takes it: after CALLBACK_OFFER_SECONDS (30) the offer lapses.
    assert callback_offers_expire(organization_id=floor_a.org.pk, now=timezone.now()) == 0
    later = timezone.now() + timedelta(seconds=31)
    assert callback_offers_expire(organization_id=floor_a.org.pk, now=later) == 1
    callbacks_offer(organization_id=floor_a.org.pk, now=later)
    assert _status(callback) == (CallbackStatus.OFFERED, floor_a.agent.pk)


def test_only_the_agent_offered_may_take_it_and_once(floor_a: Floor, floor_b: Floor) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue)
    callback = callback_schedule(queue=queue, number="+15557650001")
    callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())

    for stranger in (floor_a.other_agent, floor_b.agent):
        with pytest.raises(ApplicationError) as refused:
            callback_offer_accept(callback_id=callback.pk, agent=stranger)
        assert refused.value.code in ("callback_not_offered", "not_found")
    assert refused.value.status == 404  # another organization's callback is not there

    taken = callback_offer_accept(callback_id=callback.pk, agent=floor_a.agent)
    assert (taken.status, taken.attempts) == (CallbackStatus.DIALING, 1)
    with pytest.raises(ApplicationError) as again:
        callback_offer_accept(callback_id=callback.pk, agent=floor_a.agent)
    assert (again.value.code, again.value.status) == ("callback_not_offered", 409)


def _placed(floor: Floor, queue: CallQueue, max_attempts: int = 2) -> Callback:
    _free(floor.agent, queue)
    callback = callback_schedule(
        queue=queue, number="+15557650001", max_attempts=max_attempts, retry_seconds=60
    )
    callbacks_offer(organization_id=floor.org.pk, now=timezone.now())
    callback_offer_accept(callback_id=callback.pk, agent=floor.agent)
    call = make_call(floor.org, agent=floor.agent, status=CallStatus.RINGING)
    Callback.objects.filter(pk=callback.pk).update(placed_call_sid=call.external_id)
    call.direction = CallDirection.OUTBOUND
    call.save(update_fields=["direction"])
    callback.refresh_from_db()
    return callback


def test_the_placed_call_settles_the_attempt(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    callback = _placed(floor_a, queue)
    call = Call.objects.get(external_id=callback.placed_call_sid)
    now = call.started_at
    assert callback_attempts_settle(organization_id=floor_a.org.pk, now=now) == 0  # ringing
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.NO_ANSWER, ended_at=now, end_outcome=CallStatus.NO_ANSWER
    )
    assert callback_attempts_settle(organization_id=floor_a.org.pk, now=now) == 1
    callback.refresh_from_db()
    assert (callback.status, callback.last_outcome) == (CallbackStatus.WAITING, "no_answer")
    assert callback.next_attempt_at == now + timedelta(seconds=60)

    # The second attempt is the last: not reached again, the callback is given up.
    Callback.objects.filter(pk=callback.pk).update(next_attempt_at=now)
    callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())
    callback_offer_accept(callback_id=callback.pk, agent=floor_a.agent)
    busy = make_call(floor_a.org, agent=floor_a.agent, status=CallStatus.BUSY)
    Call.objects.filter(pk=busy.pk).update(ended_at=busy.started_at)
    Callback.objects.filter(pk=callback.pk).update(placed_call_sid=busy.external_id)
    assert callback_attempts_settle(organization_id=floor_a.org.pk, now=now) == 1
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.last_outcome) == (
        CallbackStatus.GIVEN_UP,
        2,
        "busy",
    )


def test_an_answered_placed_call_answers_the_callback_and_a_vanished_one_is_lost(
    floor_a: Floor,
) -> None:
    queue = make_queue(floor_a.org)
    callback = _placed(floor_a, queue)
    Call.objects.filter(external_id=callback.placed_call_sid).update(
        status=CallStatus.IN_PROGRESS, answered_at=timezone.now()
    )
    callback_attempts_settle(organization_id=floor_a.org.pk, now=timezone.now())
    callback.refresh_from_db()
    assert (callback.status, callback.last_outcome) == (CallbackStatus.ANSWERED, "answered")

    other = callback_schedule(queue=queue, number="+15557650003")
    Callback.objects.filter(pk=other.pk).update(
        status=CallbackStatus.DIALING, agent=floor_a.agent, attempts=1, offered_at=timezone.now()
    )
    # Accepted, but no call ever appeared (the bridge died before its Originate).
    settle_at = timezone.now() + timedelta(minutes=3)
    assert callback_attempts_settle(organization_id=floor_a.org.pk, now=settle_at) == 1
    other.refresh_from_db()
    assert (other.status, other.last_outcome) == (CallbackStatus.WAITING, "lost")


def test_a_long_line_costs_a_read_per_queue_not_per_callback(
    floor_a: Floor, django_assert_max_num_queries: Any
) -> None:
    queue = make_queue(floor_a.org)
    _free(floor_a.agent, queue)
    for n in range(30):
        callback_schedule(queue=queue, number=f"+1555765{n:04d}")
    # The service's savepoint, the due callbacks, the busy agents (two reads), the
    # queue's members, the offer (a savepoint and its update), the offers' audit
    # entries (one insert): the same for 30 callbacks as for one.
    with django_assert_max_num_queries(10):
        offered = callbacks_offer(organization_id=floor_a.org.pk, now=timezone.now())
    assert len(offered) == 1
