"""Who rings whom: claim waiting callers and free agents in one transaction.

The decision for an organization runs under a lock on its Twilio account row, so two
processes deciding at once take turns and the second sees what the first claimed; the
partial unique constraints on ``TwilioOffer`` (one active offer per agent, one per
call) make a double booking impossible even so. A claim is committed before Twilio is
asked to ring (``ringing``): a process that dies in between leaves a claimed offer that
the repair job expires, and the caller is offered again.

A due callback waits in the same line, in its place; its turn offers it to the agent
chosen in their console (``Callback`` offered, as the Asterisk bridge offers one:
contactcenter/services/callback_offers.py), who accepts it there (the call is then
placed through Twilio's REST API) or declines it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from contactcenter import publish
from contactcenter.enums import AgentState, CallSource, QueueStrategy
from contactcenter.models import (
    Agent,
    Call,
    Callback,
    CallbackStatus,
    CallQueue,
    QueueMembership,
)
from contactcenter.services import audit
from telephony.models import (
    OFFER_ACTIVE,
    ExitReason,
    OfferStatus,
    TwilioAccount,
    TwilioOffer,
    TwilioQueueExit,
)
from telephony.twilio.routing.exits import take_exits
from telephony.twilio.routing.strategy import Candidate, ordered
from telephony.twilio.twiml import MAX_SIMULTANEOUS


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    offers: list[TwilioOffer]
    # When a caller waiting out a retry delay or an agent in wrap-up becomes offerable.
    next_check: datetime | None
    # Callers taken out of their queue (max wait, leave-when-empty), to redirect.
    exits: list[TwilioQueueExit] = field(default_factory=list)


def waiting_calls(organization_id: int) -> list[Call]:
    """Twilio callers in an active queue, not answered, not ended, not being offered,
    not taken out of their queue by an exit; the heavier queue first, then the longest
    waiting.

    A caller an exit moved to another queue waits there: ``call.queue`` and
    ``call.queued_at`` of the returned (never saved) instance are that queue and the
    move's time (a supervisor's move keeps the time they joined: their place), while
    the call's record keeps the queue it joined.
    """
    offered = TwilioOffer.objects.filter(call=OuterRef("pk"), status__in=OFFER_ACTIVE)
    # A caller who asked to be called back is in line as their Callback, not as a call.
    kept = Callback.objects.filter(call=OuterRef("pk"))
    exits = TwilioQueueExit.objects.filter(call=OuterRef("pk")).order_by("-created_at", "-pk")
    calls = list(
        Call.objects.for_organization(organization_id)
        .filter(
            source=CallSource.TWILIO,
            ended_at__isnull=True,
            answered_at__isnull=True,
            queue__isnull=False,
        )
        .exclude(Exists(offered))
        .exclude(Exists(kept))
        .annotate(exited=Exists(exits), moved_to=Subquery(exits.values("to_queue")[:1]))
        .select_related("queue")
    )
    moved = {c.moved_to for c in calls if c.moved_to is not None}
    queues = CallQueue.objects.in_bulk(moved)
    line = []
    for call in calls:
        if call.exited:
            target = queues.get(call.moved_to)
            if target is None:  # left for good (voicemail, callback, hung up)
                continue
            entry = (
                TwilioQueueExit.objects.filter(call=call, to_queue=target)
                .order_by("-created_at")
                .values_list("created_at", "reason")
                .first()
            )
            call.queue = target
            if entry is not None and entry[1] != ExitReason.MOVED:
                # A supervisor's move keeps the caller's place: their wait goes on.
                call.queued_at = entry[0]
        if call.queue is not None and call.queue.is_active:
            line.append(call)
    return sorted(line, key=lambda c: (-_queue_of(c).weight, c.queued_at or c.started_at, c.pk))


def busy_agents(organization_id: int, now: datetime) -> tuple[set[int], datetime | None]:
    """Agents with an active offer, a callback offered, under way or on its live call,
    or in wrap-up after their last call; and the first moment one of the latter is
    free. (An agent on any other call is not available: their phone's state says so.)"""
    busy = set(
        TwilioOffer.objects.for_organization(organization_id)
        .filter(status__in=OFFER_ACTIVE)
        .values_list("agent_id", flat=True)
    )
    busy |= set(
        Callback.objects.for_organization(organization_id)
        .filter(status__in=(CallbackStatus.OFFERED, CallbackStatus.DIALING), agent__isnull=False)
        .values_list("agent_id", flat=True)
    )
    # A callback's placed call the customer answered, before (and while) the agent's
    # browser rings: the agent is busy until Twilio says the call is over.
    live = Call.objects.for_organization(organization_id).filter(
        source=CallSource.TWILIO, external_id=OuterRef("placed_call_sid"), ended_at__isnull=True
    )
    busy |= set(
        Callback.objects.for_organization(organization_id)
        .filter(status=CallbackStatus.ANSWERED, agent__isnull=False)
        .exclude(placed_call_sid="")
        .filter(Exists(live))
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
    busy, next_check = busy_agents(organization_id, now)
    free = set(
        Agent.objects.for_organization(organization_id)
        .filter(is_active=True, state=AgentState.AVAILABLE)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )
    offers: list[TwilioOffer] = []
    line = _line(organization_id, account, now)
    gone = take_exits(organization_id, [w for w in line if isinstance(w, Call)], now)
    by_queue: dict[int, int | None] = {}  # rrmemory's memory within this decision
    for waiting in line:
        if not free:  # the usual case under load: one agent freed, one caller taken
            break
        if isinstance(waiting, Call) and waiting.pk in gone.calls:
            continue
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
        if isinstance(waiting, Callback):
            # The agent it was last offered to (who let it lapse, declined it or did
            # not reach the customer) comes after the others, as on Asterisk.
            candidates = [
                replace(c, missed_this_call=c.missed_this_call + 1)
                if c.agent_id == waiting.agent_id
                else c
                for c in candidates
            ]
        last = by_queue[queue.pk] if queue.pk in by_queue else _last_offered(queue)
        chosen = ordered(queue.strategy, candidates, last_offered=last)
        ring_all = queue.strategy == QueueStrategy.RINGALL and isinstance(waiting, Call)
        if ring_all:
            # Every free member of the best tier at once (those who did not miss this
            # caller, of the lowest penalty), as many as one <Dial> rings.
            tier = (chosen[0].missed_this_call, chosen[0].penalty)
            chosen = [c for c in chosen if (c.missed_this_call, c.penalty) == tier]
            chosen = chosen[:MAX_SIMULTANEOUS]
        else:
            chosen = chosen[:1]
        why = _reason(queue, chosen, candidates)
        for best in chosen:
            by_queue[queue.pk] = best.agent_id
            busy.add(best.agent_id)
            free.discard(best.agent_id)
            if isinstance(waiting, Callback):
                _offer_callback(waiting, best.agent_id, now)
            else:
                offers.append(_claim(waiting, best.agent_id, now, ring_all=ring_all, reason=why))
        _audit_offer(waiting, queue, [c.agent_id for c in chosen], why, ring_all=ring_all)
    if gone.next_check is not None:
        next_check = gone.next_check if next_check is None else min(next_check, gone.next_check)
    return Decision(offers=offers, next_check=next_check, exits=gone.exits)


def _audit_offer(
    waiting: Call | Callback, queue: CallQueue, agents: list[int], why: str, *, ring_all: bool
) -> None:
    """The routing decision in the audit trail, on the call (or callback) offered."""
    audit.record(
        action="routing.offer",
        organization_id=waiting.organization_id,
        obj=waiting,
        details={"queue": queue.pbx_queue_name, "agents": agents, "ring_all": ring_all, "why": why},
    )


def _reason(queue: CallQueue, chosen: list[Candidate], candidates: list[Candidate]) -> str:
    """Why these agents, in words an operator reads on the call's timeline."""
    best = chosen[0]
    words = (
        f"{queue.strategy}: {len(chosen)} of {len(candidates)} free"
        if len(chosen) > 1
        else f"{queue.strategy}: best of {len(candidates)} free"
    )
    words += f", penalty {best.penalty}"
    if best.missed_this_call:
        words += f", each free member missed this caller {best.missed_this_call}x"
    if queue.strategy == QueueStrategy.FEWESTCALLS:
        words += f", {best.calls_taken} calls taken"
    elif queue.strategy == QueueStrategy.LEASTRECENT:
        ended = best.last_call_ended
        words += f", last call ended {ended.isoformat(timespec='seconds') if ended else 'never'}"
    return words[:200]


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
    """Callbacks whose time has come, waiting (not offered, not being placed), in an
    active queue."""
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


def _offer_callback(callback: Callback, agent_id: int, now: datetime) -> None:
    """Offer the callback to the agent in their console, as the Asterisk bridge does
    (``callbacks_offer``): audited ``offer``; the agent's console and the queue's
    figures are refreshed after commit. Accepting it places the call
    (``callback_call``); letting it lapse or declining puts it back in line."""
    callback.status, callback.offered_at, callback.agent_id = CallbackStatus.OFFERED, now, agent_id
    callback.save(update_fields=["status", "offered_at", "agent", "updated_at"])
    audit.record(
        action="offer",
        organization_id=callback.organization_id,
        obj=callback,
        changes={"status": [CallbackStatus.WAITING, CallbackStatus.OFFERED]},
        details={"agent": agent_id},
    )
    publish.agent_state_changed(organization_id=callback.organization_id, agent_id=agent_id)
    publish.calls_changed(organization_id=callback.organization_id, queue_ids={callback.queue_id})


def _claim(
    waiting: Call, agent_id: int, now: datetime, *, ring_all: bool, reason: str
) -> TwilioOffer:
    return TwilioOffer.objects.create(
        organization_id=waiting.organization_id,
        call=waiting,
        agent_id=agent_id,
        queue=_queue_of(waiting),
        status=OfferStatus.CLAIMED,
        ring_all=ring_all,
        reason=reason,
        created_at=now,
    )
