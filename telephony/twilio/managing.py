"""A supervisor's hand on a floor we route on Twilio (telephony/twilio/routing/): the
commands the bridge takes to Asterisk as QueuePause, QueueAdd, QueueRemove, Redirect
and Hangup, here acted on our routing's own state, and over Twilio's REST API where a
live call must be told.

- ``queue_pause`` and ``log_out``: the agent's state is the routing's (only an available
  agent is offered a caller); the supervision service writes it as the agent's own
  choice (``agent_choose_state``), which keeps the pause in their memberships. Here the
  agent is checked and the command answered.
- ``queue_add`` / ``queue_remove``: the membership the routing offers callers from
  (logged in, with its penalty; the agent's pause kept on a new one).
- ``move_to_queue``: the caller is taken out of the queue they wait in (a
  ``TwilioQueueExit`` of reason ``moved``, the claim and the record, as the routing's own
  exits) and redirected to the ``queue-exit/`` webhook, which enqueues them in the other
  queue and puts the move on the call's timeline; they keep their place (their wait
  counts from when they first joined).
- ``redirect``: the caller is offered to that agent only (an offer claimed for them
  under the routing's lock, then rung as the routing rings: the caller's call gets a
  ``<Dial><Client>``); unanswered, the caller is back in their queue.
- ``hangup_call``: ``calls(sid).update(status="completed")``; the record closes when
  Twilio's status callback says the call is over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import AgentState, CallSource, QueueMaxWaitAction
from contactcenter.models import Agent, Call, CallQueue, QueueMembership
from contactcenter.ports import PbxResult
from contactcenter.services import audit
from telephony.models import ExitReason, OfferStatus, TwilioAccount, TwilioOffer, TwilioQueueExit
from telephony.twilio import actions
from telephony.twilio.actions import ActionResult
from telephony.twilio.callbacks import Hints, webhook_url
from telephony.twilio.routing import ringing
from telephony.twilio.routing.decide import busy_agents, waiting_calls

logger = logging.getLogger(__name__)

COMMANDS = frozenset(
    {
        "queue_pause",
        "log_out",
        "queue_add",
        "queue_remove",
        "hangup_call",
        "redirect",
        "move_to_queue",
    }
)
MOVED_REASON = "supervisor: moved to this agent"


def _refused(message: str, error: str = "refused") -> PbxResult:
    return PbxResult(ok=False, error=error, message=message)


def _agent(organization_id: int, params: dict[str, Any]) -> Agent | None:
    raw = str(params.get("agent_id", ""))
    if not raw.isdigit():
        return None
    agent: Agent | None = (
        Agent.objects.for_organization(organization_id).filter(pk=int(raw), is_active=True).first()
    )
    return agent


async def managed(
    account: TwilioAccount, command: str, params: dict[str, Any], *, timeout: float
) -> PbxResult:
    """Run one of ``COMMANDS`` for ``account``'s organization."""
    organization_id = account.organization_id
    if command in ("queue_pause", "log_out", "queue_add", "queue_remove"):
        agent = await database_sync_to_async(_agent)(organization_id, params)
        if agent is None:
            return _refused("No such active agent.", "bad_request")
        if command == "queue_pause":
            if params.get("paused"):
                return PbxResult(ok=True, message="Paused: our routing offers them no caller.")
            return PbxResult(ok=True, message="Unpaused: our routing offers them callers again.")
        if command == "log_out":
            return PbxResult(ok=True, message="Offline: our routing offers them no caller.")
        queue = str(params.get("queue", ""))
        if command == "queue_add":
            penalty = int(params.get("penalty") or 0)
            return await database_sync_to_async(_join)(agent, queue, penalty)
        return await database_sync_to_async(_leave)(agent, queue)
    call_sid = str(params.get("call", ""))
    if not call_sid:
        return _refused("'call' is needed.", "bad_request")
    try:
        if command == "hangup_call":
            return await asyncio.wait_for(_hang_up(account, call_sid), timeout)
        if command == "move_to_queue":
            queue = str(params.get("queue", ""))
            return await asyncio.wait_for(_move_to_queue(account, call_sid, queue), timeout)
        agent = await database_sync_to_async(_agent)(organization_id, params)
        if agent is None:
            return _refused("No such active agent.", "bad_request")
        return await asyncio.wait_for(_offer_to(account, call_sid, agent), timeout)
    except TimeoutError:
        return _refused("Twilio did not answer in time.", "timeout")


def _queue(organization_id: int, name: str) -> CallQueue | None:
    queue: CallQueue | None = (
        CallQueue.objects.for_organization(organization_id).filter(pbx_queue_name=name).first()
    )
    return queue


def _changed(agent: Agent, queue: CallQueue) -> None:
    publish.agent_state_changed(organization_id=agent.organization_id, agent_id=agent.pk)
    publish.calls_changed(organization_id=agent.organization_id, queue_ids={queue.pk})
    ringing.request(agent.organization_id)  # offered a caller there, or a queue left empty


@transaction.atomic
def _join(agent: Agent, name: str, penalty: int) -> PbxResult:
    """``agent`` a logged-in member of the queue ``name`` with ``penalty``; a paused
    agent's pause is kept on it (the routing offers them nothing until they resume)."""
    queue = _queue(agent.organization_id, name)
    if queue is None:
        return _refused(f"No queue {name!r}.", "bad_request")
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    paused = locked.state == AgentState.PAUSED
    now = timezone.now()
    QueueMembership.objects.update_or_create(
        organization_id=agent.organization_id,
        queue=queue,
        agent=locked,
        defaults={
            "is_logged_in": True,
            "penalty": penalty,
            "paused": paused,
            "paused_reason": locked.state_reason[:64] if paused else "",
            "paused_at": now if paused else None,
        },
    )
    _changed(locked, queue)
    return PbxResult(ok=True, message=f"Added to {queue.name}.")


@transaction.atomic
def _leave(agent: Agent, name: str) -> PbxResult:
    """``agent`` no longer a member of the queue ``name`` the routing offers from (the
    membership is kept, logged out, as the PBX's QueueMemberRemoved leaves it)."""
    queue = _queue(agent.organization_id, name)
    if queue is None:
        return _refused(f"No queue {name!r}.", "bad_request")
    Agent.objects.select_for_update().filter(pk=agent.pk).first()
    left = QueueMembership.objects.filter(agent=agent, queue=queue, is_logged_in=True).update(
        is_logged_in=False
    )
    if not left:
        return _refused(f"The agent is not in {queue.name}.")
    _changed(agent, queue)
    return PbxResult(ok=True, message=f"Removed from {queue.name}.")


def _live(organization_id: int, call_sid: str) -> Call | None:
    call: Call | None = (
        Call.objects.for_organization(organization_id)
        .filter(source=CallSource.TWILIO, external_id=call_sid, ended_at__isnull=True)
        .first()
    )
    return call


async def _hang_up(account: TwilioAccount, call_sid: str) -> PbxResult:
    call = await database_sync_to_async(_live)(account.organization_id, call_sid)
    if call is None:
        return _refused("That call is not live on Twilio.", "invalid")
    result: ActionResult = await asyncio.to_thread(actions.hangup, account, call_sid)
    if not result.ok:
        return _refused(result.message)
    return PbxResult(
        ok=True, message="Twilio is ending the call.", data={"call": result.call_sid or call_sid}
    )


def _waiting(organization_id: int, call_sid: str) -> Call | None:
    """The caller as the routing sees them (``queue``: the one they wait in now), if
    they wait and no agent is being offered them."""
    return next((c for c in waiting_calls(organization_id) if c.external_id == call_sid), None)


NOT_WAITING = "The caller is not waiting in a queue (answered, being offered, or gone)."


def _waiting_locked(organization_id: int, call_sid: str) -> tuple[Call, CallQueue] | PbxResult:
    """The caller and the queue they wait in, under the routing's lock (``decide``'s: no
    decision claims the caller meanwhile, until the transaction ends); refused if they
    do not wait."""
    TwilioAccount.objects.select_for_update().filter(
        organization_id=organization_id, is_enabled=True
    ).first()
    call = _waiting(organization_id, call_sid)
    if call is None or call.queue is None:
        return _refused(NOT_WAITING, "not_waiting")
    return call, call.queue


@transaction.atomic
def _claim_exit(organization_id: int, call_sid: str, name: str) -> TwilioQueueExit | PbxResult:
    waiting = _waiting_locked(organization_id, call_sid)
    if isinstance(waiting, PbxResult):
        return waiting
    call, queue = waiting
    target = _queue(organization_id, name)
    if target is None or not target.is_active:
        return _refused(f"No active queue {name!r}.", "bad_request")
    if target.pk == queue.pk:
        return _refused("The caller is waiting in that queue already.", "same_queue")
    try:
        with transaction.atomic():
            return TwilioQueueExit.objects.create(
                organization_id=organization_id,
                call=call,
                queue=queue,
                reason=ExitReason.MOVED,
                action=QueueMaxWaitAction.QUEUE,
                to_queue=target,
                created_at=timezone.now(),
            )
    except IntegrityError:  # one exit per call and queue: moved out of it before
        return _refused(f"The caller was taken out of {queue.name} once already.")


def _exit_sent(exit_: TwilioQueueExit, result: ActionResult, account: TwilioAccount) -> None:
    if result.ok:
        TwilioQueueExit.objects.filter(pk=exit_.pk).update(redirected_at=timezone.now())
        return
    TwilioQueueExit.objects.filter(pk=exit_.pk).delete()  # the caller waits on where they were
    if result.code in ringing.CALL_GONE:
        ringing.caller_gone(account, Call.objects.get(pk=exit_.call_id), timezone.now())


async def _move_to_queue(account: TwilioAccount, call_sid: str, name: str) -> PbxResult:
    claimed = await database_sync_to_async(_claim_exit)(account.organization_id, call_sid, name)
    if isinstance(claimed, PbxResult):
        return claimed
    url = webhook_url(settings.PUBLIC_URL, "queue-exit", Hints(queue=claimed.queue.pbx_queue_name))
    run = functools.partial(actions.redirect, account, call_sid, url=url)
    result: ActionResult = await asyncio.to_thread(run)
    await database_sync_to_async(_exit_sent)(claimed, result, account)
    if not result.ok:
        return _refused(result.message)
    return PbxResult(ok=True, message=f"Moving the caller to {name}.")


@transaction.atomic
def _claim_offer(organization_id: int, call_sid: str, agent: Agent) -> TwilioOffer | PbxResult:
    waiting = _waiting_locked(organization_id, call_sid)
    if isinstance(waiting, PbxResult):
        return waiting
    call, queue = waiting
    now = timezone.now()
    busy, _ = busy_agents(organization_id, now)
    fresh = Agent.objects.get(pk=agent.pk)
    if fresh.state != AgentState.AVAILABLE or fresh.pk in busy:
        return _refused(f"{fresh.name} is not free to take a call.")
    return TwilioOffer.objects.create(
        organization_id=organization_id,
        call=call,
        agent=fresh,
        queue=queue,
        status=OfferStatus.CLAIMED,
        reason=MOVED_REASON,
        created_at=now,
    )


def _rung(offer: TwilioOffer, result: ActionResult, account: TwilioAccount) -> None:
    pending = TwilioOffer.objects.filter(pk=offer.pk, status=OfferStatus.CLAIMED)
    now = timezone.now()
    if result.ok:
        pending.update(status=OfferStatus.RINGING, rung_at=now)
        audit.record(
            action="routing.offer",
            organization_id=offer.organization_id,
            obj=offer.call,
            details={
                "queue": offer.queue.pbx_queue_name,
                "agents": [offer.agent_id],
                "ring_all": False,
                "why": MOVED_REASON,
            },
        )
        return
    pending.delete()  # never rung: the caller waits on, offered as the routing decides
    if result.code in ringing.CALL_GONE:
        ringing.caller_gone(account, Call.objects.get(pk=offer.call_id or 0), now)
    ringing.request(offer.organization_id)


async def _offer_to(account: TwilioAccount, call_sid: str, agent: Agent) -> PbxResult:
    claimed = await database_sync_to_async(_claim_offer)(account.organization_id, call_sid, agent)
    if isinstance(claimed, PbxResult):
        return claimed
    queue = await database_sync_to_async(lambda: claimed.queue)()
    record = await database_sync_to_async(ringing.records_all)(queue)
    run = functools.partial(
        actions.connect_agent,
        account,
        call_sid,
        agent=agent.twilio_identity,
        queue=queue.pbx_queue_name,
        timeout=queue.ring_timeout_seconds,
        base_url=settings.PUBLIC_URL,
        record=record,
    )
    result: ActionResult = await asyncio.to_thread(run)
    await database_sync_to_async(_rung)(claimed, result, account)
    if not result.ok:
        return _refused(result.message)
    return PbxResult(ok=True, message=f"Ringing {agent.name} with the caller.")
