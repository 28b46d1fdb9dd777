"""Ring the claimed agents through Twilio's REST API, and follow each offer to its end.

The webhooks tell how an offer went (``offer_answered``, ``offer_over``,
``call_over``); each end frees the agent or the caller and asks for a new decision
(``request``: the ``telephony.twilio_route`` task, after commit). ``repair`` (the beat
job) expires offers nobody reported on, a process having died between the claim and
the ring or a callback being lost, and routes every organization with callers waiting.
"""

from __future__ import annotations

import logging
import os
import re
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import AgentState, CallSource, RecordingPolicy
from contactcenter.models import Agent, Call, CallQueue
from contactcenter.services.agents import agent_choose_state
from contactcenter.services.telephony import telephony_apply
from telephony.models import OFFER_ACTIVE, OfferStatus, TwilioAccount, TwilioOffer
from telephony.twilio import actions
from telephony.twilio.callbacks import agent_name
from telephony.twilio.routing import exits
from telephony.twilio.routing.callbacks import release_lost, tend
from telephony.twilio.routing.decide import decide, due_callbacks, waiting_calls
from telephony.twilio.routing.phones import offers_over, wrap_ups_over

logger = logging.getLogger(__name__)

# A claim Twilio was not asked to ring within this long: its process died.
CLAIM_SECONDS = 15
# A ringing offer no callback ended this long after its ring timeout: a lost callback.
RING_GRACE_SECONDS = 60
_AGENT = re.compile(r"^client:agent-([1-9][0-9]{0,17})$")


def request(organization_id: int, *, delay: float = 0.0) -> None:
    """Decide again for the organization, after the current transaction commits."""
    from telephony.tasks import twilio_route

    def enqueue() -> None:
        if delay <= 0:
            twilio_route.delay(organization_id)
        elif not twilio_route.app.conf.task_always_eager:
            twilio_route.apply_async((organization_id,), countdown=delay)
        # Eager (no worker): nothing can wait; the repair job decides again later.

    transaction.on_commit(enqueue, robust=True)


def route(*, organization_id: int, now: datetime | None = None) -> list[TwilioOffer]:
    """Decide, then ring the agents claimed. Returns the offers made."""
    if not settings.PUBLIC_URL:
        logger.error("Twilio routing needs PUBLIC_URL (the URL Twilio calls us back at)")
        return []
    now = now or timezone.now()
    wrap_ups_over(organization_id, now)
    tend(organization_id, now)
    decision = decide(organization_id=organization_id, now=now)
    if decision.next_check is not None:
        request(organization_id, delay=(decision.next_check - now).total_seconds())
    for exit_ in decision.exits:
        exits.send(exit_)
    groups: dict[int, list[TwilioOffer]] = {}
    for offer in decision.offers:
        if offer.ring_all and offer.call_id is not None:
            groups.setdefault(offer.call_id, []).append(offer)
        else:
            ring(offer)
    for group in groups.values():
        ring_all(group)
    return decision.offers


def ring_all(offers: list[TwilioOffer]) -> bool:
    """Ring every agent of a ring-all caller's offers at once, in one <Dial>."""
    first = offers[0]
    account = TwilioAccount.objects.get(organization_id=first.organization_id)
    assert first.call_id is not None  # ring-all offers are of calls
    call = Call.objects.get(pk=first.call_id)
    agents = Agent.objects.in_bulk([offer.agent_id for offer in offers])
    result = actions.connect_agents(
        account,
        call.external_id,
        agents=[agents[offer.agent_id].twilio_identity for offer in offers],
        queue=first.queue.pbx_queue_name,
        timeout=first.queue.ring_timeout_seconds,
        base_url=settings.PUBLIC_URL,
        record=records_all(first.queue),
    )
    now = timezone.now()
    pending = TwilioOffer.objects.filter(
        pk__in=[offer.pk for offer in offers], status=OfferStatus.CLAIMED
    )
    if result.ok:
        pending.update(status=OfferStatus.RINGING, rung_at=now)
        return True
    logger.warning("Twilio routing: ringing all for %s refused: %s", call, result.message)
    pending.update(status=OfferStatus.MISSED, ended_at=now)
    if result.code in CALL_GONE:
        caller_gone(account, call, now)
        request(first.organization_id)
    return False


def ring(offer: TwilioOffer) -> bool:
    """Ask Twilio to ring the offer's agent with the waiting caller (taken out of the
    queue). (A callback is not rung: it is offered in the agent's console, ``decide``.)"""
    if _hook := os.environ.get("CC_TEST_PAUSE_BEFORE_RING"):
        _pause_before_ring(_hook)
    account = TwilioAccount.objects.get(organization_id=offer.organization_id)
    queue, agent = offer.queue, offer.agent
    assert offer.call_id is not None  # decide claims offers of calls only
    call = Call.objects.get(pk=offer.call_id)
    result = actions.connect_agent(
        account,
        call.external_id,
        agent=agent.twilio_identity,
        queue=queue.pbx_queue_name,
        timeout=queue.ring_timeout_seconds,
        base_url=settings.PUBLIC_URL,
        record=records_all(queue),
    )
    now = timezone.now()
    pending = TwilioOffer.objects.filter(pk=offer.pk, status=OfferStatus.CLAIMED)
    if result.ok:
        pending.update(status=OfferStatus.RINGING, rung_at=now)
        return True
    logger.warning("Twilio routing: ringing %s for %s refused: %s", agent, call, result.message)
    pending.update(status=OfferStatus.MISSED, ended_at=now)
    if result.code in CALL_GONE:
        caller_gone(account, call, now)
        request(offer.organization_id)  # the agent is free for the next caller
    return False


def records_all(queue: CallQueue) -> bool:
    """Whether the queue's calls are recorded once answered: its own recording policy,
    or its organization's when it has none (``on_demand`` is asked by the agent)."""
    policy = queue.recording_policy or queue.organization.recording_policy
    return bool(policy == RecordingPolicy.ALL)


# Twilio's answers for a call that is no longer there to redirect: not found, not in
# progress. The caller hung up and the callback saying so was lost (or is late).
CALL_GONE = {20404, 21220}


def caller_gone(account: TwilioAccount, call: Call, at: datetime) -> None:
    """End the call as Twilio says it is, or it would be offered again and again."""
    from telephony.twilio.views import connection_key  # the views import this module

    ended = te.CallEnded(
        call_key=call.external_id,
        at=at,
        dedup_key=f"twilio:{call.external_id}:gone",
        source=CallSource.TWILIO,
    )
    telephony_apply(
        organization_id=account.organization_id,
        connection_key=connection_key(account),
        events=[ended],
    )


def _agent_pk(name: str) -> int | None:
    match = _AGENT.match(name)
    return int(match[1]) if match else None


def _offers(organization_id: int, call_sid: str) -> QuerySet[TwilioOffer]:
    return TwilioOffer.objects.for_organization(organization_id).filter(
        call__source=CallSource.TWILIO, call__external_id=call_sid
    )


def offer_answered(
    *, organization_id: int, call_sid: str, agent: str, at: datetime, leg_sid: str = ""
) -> None:
    """The agent's leg of a queue call answered: the offer is connected. Of a ring-all
    caller's offers, the others are over (Twilio hung up their legs): those agents are
    free for the next caller."""
    pk = _agent_pk(agent)
    if pk is None:
        return
    # Read first: a re-delivered callback finds nothing to do and writes nothing.
    ringing = _offers(organization_id, call_sid).filter(
        agent_id=pk, status__in=(OfferStatus.CLAIMED, OfferStatus.RINGING)
    )
    offer = ringing.only("pk", "ring_all", "call_id").first()
    if offer is None:
        return
    call_id = offer.call_id
    assert call_id is not None  # found by the call's sid
    if not offer.ring_all:
        ringing.filter(pk=offer.pk).update(
            status=OfferStatus.CONNECTED, answered_at=at, leg_sid=leg_sid[:64]
        )
        return
    with transaction.atomic():
        group = list(
            TwilioOffer.objects.select_for_update()
            .filter(call_id=call_id, status__in=OFFER_ACTIVE)
            .order_by("pk")
        )
        if any(o.status == OfferStatus.CONNECTED for o in group):
            return  # another agent took the caller first: Twilio hung this leg up
        TwilioOffer.objects.filter(pk=offer.pk).update(
            status=OfferStatus.CONNECTED, answered_at=at, leg_sid=leg_sid[:64]
        )
        others = [o for o in group if o.pk != offer.pk]
        if others:
            TwilioOffer.objects.filter(pk__in=[o.pk for o in others]).update(
                status=OfferStatus.CANCELED, ended_at=at
            )
            offers_over(others, at)
            request(organization_id)


@transaction.atomic
def offer_over(
    *, organization_id: int, call_sid: str, agent: str, connected: bool, at: datetime
) -> None:
    """The Dial of an offer is over: the call with the agent ended (``connected``), or
    the agent did not take it (no answer, busy, rejected). Decide again: at once for
    the other agents, after the wrap-up or retry delay for these two."""
    pk = _agent_pk(agent)
    if pk is None:
        return
    offers = _offers(organization_id, call_sid).filter(agent_id=pk, status__in=OFFER_ACTIVE)
    offer = offers.select_related("queue").first()
    if offer is None:
        return
    answered = _offer_ended(offer, connected=connected, at=at)
    request(organization_id)
    delay = offer.queue.wrapup_seconds if answered else offer.queue.retry_seconds
    if delay:
        request(organization_id, delay=delay)


@transaction.atomic
def ring_all_over(
    *, organization_id: int, call_sid: str, connected: bool, leg_sid: str, at: datetime
) -> str:
    """The <Dial> of a ring-all caller is over: the agent who answered is done with the
    call (``connected``), or nobody answered in time and every agent rung missed it.
    Returns the name of the agent who answered (``client:...``), or "" if none is known.
    """
    group = list(
        _offers(organization_id, call_sid)
        .filter(ring_all=True, status__in=OFFER_ACTIVE)
        .select_related("queue", "agent")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    answered = ""
    if connected:
        # Who answered: the offer of the answered leg (its status callback came first,
        # as Twilio sends it), else the one connected (this offer may be over already).
        taken = (
            _offers(organization_id, call_sid)
            .filter(ring_all=True, answered_at__isnull=False)
            .select_related("agent")
            .order_by("-answered_at", "-pk")
        )
        winner = (taken.filter(leg_sid=leg_sid).first() if leg_sid else None) or taken.first()
        if winner is None:  # the answered leg's status callback is lost, or late
            logger.warning("Twilio routing: %s answered by an agent not known yet", call_sid)
        canceled = []
        for offer in group:
            if winner is not None and offer.pk == winner.pk:
                _offer_ended(offer, connected=True, at=at)
            else:
                TwilioOffer.objects.filter(pk=offer.pk).update(
                    status=OfferStatus.CANCELED, ended_at=at
                )
                canceled.append(offer)
        offers_over(canceled, at)
        if winner is not None:
            answered = agent_name(winner.agent.twilio_identity)
    else:
        for offer in group:
            _offer_ended(offer, connected=False, at=at)
    if group:
        request(organization_id)
        queue = group[0].queue
        delay = queue.wrapup_seconds if connected else queue.retry_seconds
        if delay:
            request(organization_id, delay=delay)
    return answered


@transaction.atomic
def ring_all_leg_refused(*, organization_id: int, call_sid: str, agent: str, at: datetime) -> None:
    """One agent of a ring-all rejected their leg (or it failed) while the others ring:
    they missed the caller and are free for the next one now, not when the Dial ends.
    An offer of one agent alone is left to the Dial action."""
    pk = _agent_pk(agent)
    if pk is None:
        return
    offer = (
        _offers(organization_id, call_sid)
        .filter(agent_id=pk, ring_all=True, status__in=(OfferStatus.CLAIMED, OfferStatus.RINGING))
        .select_related("queue")
        .select_for_update(of=("self",))
        .first()
    )
    if offer is not None:
        _offer_ended(offer, connected=False, at=at)
        request(organization_id)


def _offer_ended(offer: TwilioOffer, *, connected: bool, at: datetime) -> bool:
    """An active offer's end: done (answered, and the call with the agent over) or
    missed. Returns whether it was answered."""
    answered = connected or offer.answered_at is not None
    offer.status = OfferStatus.DONE if answered else OfferStatus.MISSED
    offer.answered_at = offer.answered_at or (at if answered else None)
    offer.ended_at = at
    offer.save(update_fields=["status", "answered_at", "ended_at"])
    offers_over([offer], at)  # off the phone, or in the queue's wrap-up
    if not answered:
        _pause_after_misses(offer)
    return answered


MISSES_PAUSE_REASON = "Missed calls"


def _pause_after_misses(offer: TwilioOffer) -> None:
    """Pause the agent once they let the queue's ``pause_after_misses`` rings in a row
    go unanswered (app_queue's autopause): they are offered nobody until they resume."""
    needed = offer.queue.pause_after_misses
    if not needed:
        return
    rung = TwilioOffer.objects.filter(agent_id=offer.agent_id, rung_at__isnull=False)
    latest = list(rung.order_by("-created_at", "-pk").values_list("status", flat=True)[:needed])
    if len(latest) == needed and all(status == OfferStatus.MISSED for status in latest):
        agent = Agent.objects.get(pk=offer.agent_id)
        if agent.state == AgentState.AVAILABLE:
            # As if they paused themselves: kept in their queues, for after a call too.
            agent_choose_state(agent=agent, state=AgentState.PAUSED, reason=MISSES_PAUSE_REASON)


def call_over(*, organization_id: int, call_sid: str, at: datetime) -> None:
    """The caller's call ended: whatever was offered of it is over."""
    active = _offers(organization_id, call_sid).filter(status__in=OFFER_ACTIVE)
    offers = list(
        active.only("pk", "organization_id", "status", "agent_id", "queue_id", "answered_at")
    )
    if not offers:  # the usual case, and a re-delivered callback's: nothing written
        return
    ended = active.filter(pk__in=[o.pk for o in offers])
    ended.filter(status=OfferStatus.CONNECTED).update(status=OfferStatus.DONE, ended_at=at)
    ended.exclude(status=OfferStatus.CONNECTED).update(status=OfferStatus.CANCELED, ended_at=at)
    for offer in offers:  # a connected offer was answered, whatever its record says
        if offer.status == OfferStatus.CONNECTED:
            offer.answered_at = offer.answered_at or at
    offers_over(offers, at)
    request(organization_id)


def repair(*, now: datetime | None = None) -> int:
    """Expire offers nobody reported on, then route every organization with callers
    waiting. Returns the number of offers made."""
    now = now or timezone.now()
    active = TwilioOffer.objects.filter(status__in=OFFER_ACTIVE)
    active.filter(
        status=OfferStatus.CLAIMED,
        created_at__lt=now - timedelta(seconds=CLAIM_SECONDS),
    ).update(status=OfferStatus.EXPIRED, ended_at=now)
    # Rings and calls nobody reported the end of: their agents' phones are idle.
    forgotten: list[TwilioOffer] = []
    ringing = active.filter(status=OfferStatus.RINGING).values_list(
        "pk", "rung_at", "queue__ring_timeout_seconds", "callback_id"
    )
    lost = [
        pk
        for pk, rung_at, timeout, callback_id in ringing
        if rung_at is not None
        # A callback's customer is rung for Twilio's default of 60 s.
        and rung_at
        + timedelta(seconds=(timeout if callback_id is None else 60) + RING_GRACE_SECONDS)
        < now
    ]
    forgotten += active.filter(pk__in=lost)
    active.filter(pk__in=lost).update(status=OfferStatus.EXPIRED, ended_at=now)
    over = list(active.filter(call__ended_at__isnull=False))
    active.filter(pk__in=[o.pk for o in over]).update(status=OfferStatus.DONE, ended_at=now)
    forgotten += over
    by_organization: dict[int, list[TwilioOffer]] = {}
    for offer in forgotten:
        by_organization.setdefault(offer.organization_id, []).append(offer)
    for offers in by_organization.values():
        offers_over(offers, min(now, timezone.now()))
    release_lost(at=now)
    exits.resend(now)
    organizations = TwilioAccount.objects.filter(is_enabled=True).values_list(
        "organization_id", flat=True
    )
    made = 0
    for organization_id in organizations:
        wrap_ups_over(organization_id, now)  # also where nobody waits
        tend(organization_id, now)
        if waiting_calls(organization_id) or due_callbacks(organization_id, now):
            made += len(route(organization_id=organization_id, now=now))
    return made


def _pause_before_ring(path: str) -> None:
    """Tests only (CC_TEST_PAUSE_BEFORE_RING=<file>): a process that has committed its
    claim announces it in the file and stops before asking Twilio to ring, so a test
    can kill it at the worst moment (tests/telephony/twilio/test_routing_processes.py).
    """
    with open(path, "a") as announce:
        announce.write(f"{os.getpid()}\n")
    time.sleep(3600)
