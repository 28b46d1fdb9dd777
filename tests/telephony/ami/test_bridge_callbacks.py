"""Callbacks on Asterisk, through the simulator and the real bridge over TCP: a waiting
caller presses 1 (the dialplan's ``UserEvent: CallbackRequest``), the bridge keeps a
Callback with the caller's place, and the call counts as a callback, not an abandon."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from contactcenter.enums import AgentState, CallDirection, CallEventType, CallStatus
from contactcenter.models import Agent, AuditEntry, Call, CallbackStatus, CallEvent, CallQueue
from contactcenter.models.audit import ActorKind
from contactcenter.models.callbacks import Callback
from contactcenter.services.callback_offers import callback_call
from contactcenter.services.callbacks import callback_schedule
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.call_actions import OriginateBehaviour
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from telephony.ami.targets import record_connection_key
from telephony.models import AsteriskConnection
from tests.telephony.bridge_harness import FAST, demo_organization, running_bridge
from tests.telephony.conftest import fast_config
from tests.telephony.recorded_calls import settled
from tests.telephony.recorded_calls import watch as watch_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with AmiSimulator(fast_config(speed=20.0)) as sim:
        yield sim


def _callbacks(organization_id: int) -> list[Callback]:
    return list(Callback.objects.for_organization(organization_id).select_related("call", "queue"))


def _trail(callback_id: int) -> list[tuple[str, str, str]]:
    """The callback's audit entries: (action, actor kind, actor label), oldest first."""
    entries = AuditEntry.objects.filter(
        object_type="contactcenter.callback", object_id=str(callback_id)
    ).order_by("id")
    return list(entries.values_list("action", "actor_kind", "actor_label"))


async def test_a_waiting_caller_who_presses_1_keeps_a_callback_with_their_place(
    simulator: AmiSimulator,
) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        watch = await watch_client(simulator)
        # Every agent lets it ring out: the caller waits, then asks to be called back.
        plan = InboundPlan(
            caller_num="+15557654321",
            no_answer_first=100,
            callback_after=40,
            callback_number="+15557650009",
        )
        assert simulator.agenda is not None
        simulator.agenda.spawn(inbound_call(simulator.pbx, plan), name="callback")
        joined = await watch.wait_for(lambda m: m.event == "QueueCallerJoin")
        asked = await watch.wait_for(lambda m: m.event == "UserEvent", timeout=30)
        assert asked["UserEvent"] == "CallbackRequest" and asked["Queue"] == "support"
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Uniqueid"] == asked["Uniqueid"])
        await settled(running)
        await watch.close()

    (callback,) = await sync_to_async(_callbacks)(org)
    call = callback.call
    assert call is not None and call.external_id == joined["Linkedid"]
    assert callback.number == "+15557650009"
    assert callback.queue.pbx_queue_name == "support"
    assert callback.status == CallbackStatus.WAITING
    # Its place in line is when the caller joined the queue, not when they pressed 1.
    assert callback.place_at == call.queued_at
    assert callback.next_attempt_at > callback.place_at
    # Neither answered nor abandoned: the queue's figures count it apart.
    assert call.status == CallStatus.CALLBACK
    assert call.ended_at is not None and call.answered_at is None
    types = await sync_to_async(
        lambda: list(CallEvent.objects.filter(call=call).values_list("type", flat=True))
    )()
    assert CallEventType.CALLBACK_REQUESTED in types
    # The PBX reported the request: the callback's entry names the bridge's connection.
    assert await sync_to_async(_trail)(callback.pk) == [
        ("create", ActorKind.PBX, call.connection_key)
    ]


async def test_a_replayed_request_keeps_one_callback_and_an_unknown_queue_none(
    simulator: AmiSimulator,
) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        bridge = running.bridge
        watch = await watch_client(simulator)
        plan = InboundPlan(caller_num="+15557654321", no_answer_first=100, callback_after=30)
        assert simulator.agenda is not None
        simulator.agenda.spawn(inbound_call(simulator.pbx, plan), name="callback")
        asked = await watch.wait_for(lambda m: m.event == "UserEvent", timeout=30)
        await settled(running)
        # The same event again (a replay after a reconnect), and one for a queue we lack.
        again = bridge.translator.translate(asked)
        other = dict(asked.items()) | {"Queue": "nosuchqueue", "Timestamp": "1741950999.000001"}
        stray = bridge.translator.translate(other)
        await bridge._apply([*again, *stray])
        await watch.close()

    (callback,) = await sync_to_async(_callbacks)(org)
    assert callback.number == "+15557654321"  # the caller's own number: no Number given
    queues = await sync_to_async(lambda: CallQueue.objects.filter(organization_id=org).count())()
    assert queues == 2


# -- placing: offered to a free agent, accepted, dialled from the agent's phone ---------


def _command_connection(organization_id: int, port: int) -> str:
    """The organization's AMI connection record: its bridge serves its commands and
    places its callbacks (``organization_pbx``)."""
    record = AsteriskConnection.objects.create(
        organization_id=organization_id,
        name="simulator",
        host="127.0.0.1",
        port=port,
        username="bridge",
        secret="x",
    )
    return record_connection_key(record.pk)


def _all_available(organization_id: int) -> None:
    Agent.objects.for_organization(organization_id).update(
        state=AgentState.AVAILABLE, state_changed_at=timezone.now()
    )


async def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll the database until ``check`` returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await sync_to_async(check)()
        if value:
            return value
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


_SETTLED = (CallbackStatus.WAITING, CallbackStatus.GIVEN_UP)


def _callback_in(pk: int, *statuses: str) -> Callback | None:
    return Callback.objects.select_related("agent").filter(pk=pk, status__in=statuses).first()


async def test_a_due_callback_is_offered_accepted_and_placed_from_the_agents_phone(
    simulator: AmiSimulator,
) -> None:
    org = await demo_organization()
    key = await sync_to_async(_command_connection)(org, simulator.port)
    fast = dataclasses.replace(FAST, callback_tick=0.1)
    async with running_bridge(simulator, fast, connection_key=key) as running:
        watch = await watch_client(simulator)
        await settled(running)
        await sync_to_async(_all_available)(org)
        queue = await sync_to_async(CallQueue.objects.get)(
            organization_id=org, pbx_queue_name="support"
        )
        scheduled = await sync_to_async(callback_schedule)(queue=queue, number="+15557650001")

        offered = await _until(lambda: _callback_in(scheduled.pk, CallbackStatus.OFFERED))
        agent = offered.agent
        placed = await callback_call(callback_id=scheduled.pk, agent=agent, timeout=10)
        assert placed.status == CallbackStatus.DIALING and placed.attempts == 1
        originate = await watch.wait_for(lambda m: m.event == "OriginateResponse")
        assert originate["Channel"].startswith(agent.interface)
        assert originate["Uniqueid"] == placed.placed_call_sid

        done = await _until(lambda: _callback_in(scheduled.pk, CallbackStatus.ANSWERED))
        await watch.close()

    assert done.last_outcome == "answered" and done.agent_id == agent.pk
    call = await sync_to_async(Call.objects.get)(
        organization_id=org, external_id=placed.placed_call_sid
    )
    assert call.direction == CallDirection.OUTBOUND
    assert call.callee_number == "+15557650001" and call.answered_at is not None
    # Every step is in the audit trail; the outcome is the PBX's record of the call.
    trail = await sync_to_async(_trail)(scheduled.pk)
    assert [action for action, _, _ in trail] == ["create", "offer", "accept", "placed", "attempt"]
    assert trail[-1][1:] == (ActorKind.PBX, key)


async def test_a_callback_nobody_answers_is_retried_then_given_up(
    simulator: AmiSimulator,
) -> None:
    org = await demo_organization()
    key = await sync_to_async(_command_connection)(org, simulator.port)
    assert simulator.actions is not None
    simulator.actions.calls.behaviour = OriginateBehaviour(customer_answers=False)
    fast = dataclasses.replace(FAST, callback_tick=0.1)
    async with running_bridge(simulator, fast, connection_key=key) as running:
        await settled(running)
        await sync_to_async(_all_available)(org)
        queue = await sync_to_async(CallQueue.objects.get)(
            organization_id=org, pbx_queue_name="support"
        )
        scheduled = await sync_to_async(callback_schedule)(
            queue=queue, number="+15557650001", max_attempts=2, retry_seconds=30
        )
        for attempt in (1, 2):
            offered = await _until(lambda: _callback_in(scheduled.pk, CallbackStatus.OFFERED))
            await callback_call(callback_id=scheduled.pk, agent=offered.agent, timeout=10)
            over = await _until(lambda: _callback_in(scheduled.pk, *_SETTLED), timeout=30)
            assert (over.attempts, over.last_outcome) == (attempt, "no_answer")
            if attempt == 1:
                assert over.status == CallbackStatus.WAITING
                # Not offered again before its retry time; then it is (time moves on).
                assert over.next_attempt_at >= over.updated_at + timedelta(seconds=29)
                await sync_to_async(Callback.objects.filter(pk=scheduled.pk).update)(
                    next_attempt_at=timezone.now()
                )
        assert over.status == CallbackStatus.GIVEN_UP
