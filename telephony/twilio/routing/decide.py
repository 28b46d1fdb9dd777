"""Who rings whom: claim waiting callers and free agents in one transaction.

The decision for an organization runs under a lock on its Twilio account row, so two
processes deciding at once take turns and the second sees what the first claimed; the
partial unique constraints on ``TwilioOffer`` (one active offer per agent, one per
call) make a double booking impossible even so. A claim is committed before Twilio is
asked to ring (``ringing``): a process that dies in between leaves a claimed offer that
the repair job expires, and the caller is offered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from contactcenter.enums import AgentState, CallSource
from contactcenter.models import (
    Agent,
    Call,
    Callback,
    CallbackStatus,
    CallQueue,
    QueueMembership,
)
from telephony.models import OFFER_ACTIVE, OfferStatus, TwilioAccount, TwilioOffer
from telephony.twilio.routing.strategy import Candidate, ordered


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    offers: list[TwilioOffer]
    # When a caller waiting out a retry delay or an agent in wrap-up becomes offerable.
    next_check: datetime | None


def waiting_calls(organization_id: int) -> list[Call]:
    """Twilio callers in an active queue, not answered, not ended, not being offered;
    the heavier queue first, then the longest waiting."""
    offered = TwilioOffer.objects.filter(call=OuterRef("pk"), status__in=OFFER_ACTIVE)
    # A caller who asked to be called back is in line as their Callback, not as a call.
    kept = Callback.objects.filter(call=OuterRef("pk"))
    return list(
        Call.objects.for_organization(organization_id)
        .filter(
            source=CallSource.TWILIO,
            ended_at__isnull=True,
            answered_at__isnull=True,
            queue__isnull=False,
            queue__is_active=True,
        )
        .exclude(Exists(offered))
        .exclude(Exists(kept))
        .select_related("queue")
        .order_by("-queue__weight", "queued_at", "pk")
    )


def _busy_agents(organization_id: int, now: datetime) -> tuple[set[int], datetime | None]:
    """Agents with an active offer or in wrap-up after their last call; and the first
    moment one of the latter is free."""
    busy = set(
        TwilioOffer.objects.for_organization(organization_id)
        .filter(status__in=OFFER_ACTIVE)
        .values_list("agent_id", flat=True)
    )
    soonest: datetime | None = None
    wrapping = (
        TwilioOffer.objects.for_organization(organization_id)
        .filter(status=OfferStatus.DONE, queue__wrapup_seconds__gt=0)
        .filter(ended_at__gt=now - timedelta(seconds=_MAX_WRAPUP_SECONDS))
        .values_list("agent_id", "ended_at", "queue__wrapup_seconds")
    )
    for agent_id, ended_at, wrapup in wrapping:
        assert ended_at is not None  # the filter
        free_at = ended_at + timedelta(seconds=wrapup)
        if free_at > now:
            busy.add(agent_id)
            soonest = free_at if soonest is None else min(soonest, free_at)
    return busy, soonest


_MAX_WRAPUP_SECONDS = 24 * 3600


def _candidates(queue: CallQueue, missed: Q, busy: set[int]) -> list[Candidate]:
    """The queue's free members; ``missed``: the offers of the one waiting (a caller or
    a callback) that an agent did not take."""
    members = (
        QueueMembership.objects.filter(
            queue=queue,
            is_logged_in=True,
            paused=False,
            agent__is_active=True,
            agent__state=AgentState.AVAILABLE,
        )
        .exclude(agent_id__in=busy)
        .values_list("agent_id", "penalty")
    )
    penalties = dict(members)
    if not penalties:
        return []
    history = (
        TwilioOffer.objects.filter(queue=queue, agent_id__in=penalties)
        .values("agent_id")
        .annotate(
            taken=Count("pk", filter=Q(answered_at__isnull=False)),
            last_end=Max("ended_at", filter=Q(answered_at__isnull=False)),
            missed=Count("pk", filter=missed & Q(answered_at__isnull=True)),
        )
    )
    seen = {row["agent_id"]: row for row in history}
    return [
        Candidate(
            agent_id=agent_id,
            penalty=penalty,
            missed_this_call=seen.get(agent_id, {}).get("missed", 0),
            calls_taken=seen.get(agent_id, {}).get("taken", 0),
            last_call_ended=seen.get(agent_id, {}).get("last_end"),
        )
        for agent_id, penalty in penalties.items()
    ]


def _retry_at(call: Call, queue: CallQueue) -> datetime | None:
    """When the caller may be offered again after their last missed offer."""
    last = (
        TwilioOffer.objects.filter(call=call, status=OfferStatus.MISSED)
        .aggregate(at=Max("ended_at"))
        .get("at")
    )
    return None if last is None else last + timedelta(seconds=queue.retry_seconds)


def _last_offered(queue: CallQueue) -> int | None:
    last = TwilioOffer.objects.filter(queue=queue).order_by("-created_at", "-pk").first()
    return None if last is None else last.agent_id


@transaction.atomic
def decide(*, organization_id: int, now: datetime) -> Decision:
    """Claim an agent for every waiting caller that one is free for, by its queue's
    strategy. Returns the claimed offers (status ``claimed``), to ring after commit."""
    account = (
        TwilioAccount.objects.select_for_update()
        .filter(organization_id=organization_id, is_enabled=True)
        .first()
    )
    if account is None:
        return Decision(offers=[], next_check=None)
    # The decision is made now that the lock is held: another process may have decided
    # (and claimed agents, ended offers) while this one waited for it.
    now = max(now, timezone.now())
    busy, next_check = _busy_agents(organization_id, now)
    free = set(
        Agent.objects.for_organization(organization_id)
        .filter(is_active=True, state=AgentState.AVAILABLE)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )
    offers: list[TwilioOffer] = []
    by_queue: dict[int, int | None] = {}  # rrmemory's memory within this decision
    for waiting in _line(organization_id, account, now):
        if not free:  # the usual case under load: one agent freed, one caller taken
            break
        queue = _queue_of(waiting)
        if isinstance(waiting, Call):
            retry_at = _retry_at(waiting, queue)
            if retry_at is not None and retry_at > now:
                next_check = retry_at if next_check is None else min(next_check, retry_at)
                continue
            missed = Q(call=waiting)
        else:
            missed = Q(callback=waiting)
        candidates = _candidates(queue, missed, busy)
        if not candidates:
            continue
        last = by_queue[queue.pk] if queue.pk in by_queue else _last_offered(queue)
        best = ordered(queue.strategy, candidates, last_offered=last)[0]
        by_queue[queue.pk] = best.agent_id
        busy.add(best.agent_id)
        free.discard(best.agent_id)
        offers.append(_claim(waiting, best.agent_id, now))
    return Decision(offers=offers, next_check=next_check)


def _line(organization_id: int, account: TwilioAccount, now: datetime) -> list[Call | Callback]:
    """Waiting callers and due callbacks in one line: the heavier queue first, then by
    place (a callback kept its caller's place in the queue)."""
    line: list[Call | Callback] = list(waiting_calls(organization_id))
    if account.caller_id:  # a callback is placed from the account's caller ID
        line += due_callbacks(organization_id, now)

    def place(w: Call | Callback) -> tuple[int, datetime, int]:
        at = w.queued_at or w.started_at if isinstance(w, Call) else w.place_at
        return (-_queue_of(w).weight, at, w.pk)

    return sorted(line, key=place)


def due_callbacks(organization_id: int, now: datetime) -> list[Callback]:
    """Callbacks whose time has come, not being placed, in an active queue."""
    placing = TwilioOffer.objects.filter(callback=OuterRef("pk"), status__in=OFFER_ACTIVE)
    return list(
        Callback.objects.for_organization(organization_id)
        .filter(
            status=CallbackStatus.WAITING,
            next_attempt_at__lte=now,
            queue__is_active=True,
        )
        .exclude(Exists(placing))
        .select_related("queue")
    )


def _queue_of(waiting: Call | Callback) -> CallQueue:
    queue = waiting.queue
    assert queue is not None  # waiting_calls' filter; a callback always has one
    return queue


def _claim(waiting: Call | Callback, agent_id: int, now: datetime) -> TwilioOffer:
    if isinstance(waiting, Callback):
        waiting.status = CallbackStatus.DIALING
        waiting.attempts += 1
        waiting.agent_id = agent_id
        waiting.save(update_fields=["status", "attempts", "agent", "updated_at"])
    return TwilioOffer.objects.create(
        organization_id=waiting.organization_id,
        call=waiting if isinstance(waiting, Call) else None,
        callback=waiting if isinstance(waiting, Callback) else None,
        agent_id=agent_id,
        queue=_queue_of(waiting),
        status=OfferStatus.CLAIMED,
        created_at=now,
    )
