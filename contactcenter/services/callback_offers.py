"""Callbacks offered in the console and placed from the agent's phone.

A due callback is offered to one free member of its queue (on Asterisk by the bridge,
``callbacks_offer``; on Twilio by its routing, in the queue's line with the callers):
the agent sees it in the console and accepts (the PBX then has their phone call the
customer, or Twilio's REST API calls the customer and then the agent's browser:
``callback_call``) or declines. An offer
nobody answers within ``CALLBACK_OFFER_SECONDS`` lapses; a lapsed or declined offer goes
to another free member first. The placed call's record says how the attempt went
(``callback_attempts_settle``): answered, or not reached and retried on the callback's
schedule, or given up after ``max_attempts``.

Who is free: an active, available member of the queue, logged in and not paused, with
no offer or callback under way and no live call. The partial unique constraint on
``Callback`` (one offer per agent) keeps two deciding processes from offering one
agent two callbacks; ``skip_locked`` keeps them from offering one callback twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter import ports, publish
from contactcenter.enums import AgentState, CallStatus
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call, Callback, CallbackStatus, QueueMembership
from contactcenter.services import audit
from contactcenter.services.call_control import call_originate
from contactcenter.services.callbacks import callback_attempt_answered, callback_attempt_over
from contactcenter.transitions import ACTIVE_CALL_STATUSES

# A placed call that never shows up in the records (the bridge died between accepting
# and originating) counts as lost after this long.
LOST_AFTER = timedelta(minutes=2)
_NOT_REACHED = {
    CallStatus.NO_ANSWER: "no_answer",
    CallStatus.BUSY: "busy",
    CallStatus.FAILED: "failed",
    CallStatus.CANCELED: "canceled",
}


def offer_seconds() -> int:
    return int(settings.CALLBACK_OFFER_SECONDS)


def _busy_agents(organization_id: int) -> set[int]:
    """Agents with a callback offered or under way, or on a live call."""
    held = Callback.objects.for_organization(organization_id).filter(
        status__in=(CallbackStatus.OFFERED, CallbackStatus.DIALING), agent__isnull=False
    )
    on_call = Call.objects.for_organization(organization_id).filter(
        status__in=ACTIVE_CALL_STATUSES, agent__isnull=False
    )
    return set(held.values_list("agent_id", flat=True)) | set(
        on_call.values_list("agent_id", flat=True)
    )


_Member = tuple[int, int, datetime | None]  # agent, penalty, in their state since


def _members(queue_id: int) -> list[_Member]:
    """The queue's members who could take a callback now, whatever else they do."""
    return list(
        QueueMembership.objects.filter(
            queue_id=queue_id,
            is_logged_in=True,
            paused=False,
            agent__is_active=True,
            agent__state=AgentState.AVAILABLE,
        ).values_list("agent_id", "penalty", "agent__state_changed_at")
    )


def _free_members(callback: Callback, members: list[_Member], busy: set[int]) -> list[int]:
    """The free ones of ``members``, best first: lowest penalty, not the agent the
    callback was last offered to, longest in their state (app_queue's leastrecent,
    roughly)."""
    epoch = datetime.min.replace(tzinfo=UTC)

    def rank(row: _Member) -> tuple[int, bool, datetime, int]:
        agent_id, penalty, since = row
        return (penalty, agent_id == callback.agent_id, since or epoch, agent_id)

    return [row[0] for row in sorted(members, key=rank) if row[0] not in busy]


@transaction.atomic
def callbacks_offer(*, organization_id: int, now: datetime) -> list[Callback]:
    """Offer each due callback (waiting, its time come, its queue active) to a free member
    of its queue, the heavier queue first and then by place. Returns those offered; each
    agent offered one is published (their console shows it). Audited (``offer``, one
    statement for all)."""
    due = (
        Callback.objects.for_organization(organization_id)
        .filter(status=CallbackStatus.WAITING, next_attempt_at__lte=now, queue__is_active=True)
        .select_related("queue")
        .order_by("-queue__weight", "place_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))
    )
    offered: list[Callback] = []
    busy: set[int] | None = None
    members: dict[int, list[_Member]] = {}  # one read per queue, however many callbacks
    for callback in due:
        busy = _busy_agents(organization_id) if busy is None else busy
        if callback.queue_id not in members:
            members[callback.queue_id] = _members(callback.queue_id)
        for agent_id in _free_members(callback, members[callback.queue_id], busy):
            callback.status, callback.offered_at = CallbackStatus.OFFERED, now
            callback.agent_id = agent_id
            try:
                with transaction.atomic():
                    callback.save(update_fields=["status", "offered_at", "agent", "updated_at"])
            except IntegrityError:  # another process offered that agent one meanwhile
                busy.add(agent_id)
                continue
            busy.add(agent_id)
            offered.append(callback)
            publish.agent_state_changed(organization_id=organization_id, agent_id=agent_id)
            break
    if offered:
        audit.record_many(
            [
                audit.Entry(
                    action="offer",
                    organization_id=organization_id,
                    object_type=audit.object_type_of(c),
                    object_id=c.pk,
                    object_label=audit.label_of(c),
                    changes={"status": [CallbackStatus.WAITING, CallbackStatus.OFFERED]},
                    details={"agent": c.agent_id},
                )
                for c in offered
            ]
        )
        publish.calls_changed(
            organization_id=organization_id, queue_ids={c.queue_id for c in offered}
        )
    return offered


def _withdraw(callback: Callback, action: str) -> None:
    """An offer not taken: the callback waits again, its agent kept as the one it was
    last offered to (the next offer prefers another). Audited as ``action``."""
    callback.status = CallbackStatus.WAITING
    callback.save(update_fields=["status", "updated_at"])
    audit.record(
        action=action,
        organization_id=callback.organization_id,
        obj=callback,
        changes={"status": [CallbackStatus.OFFERED, CallbackStatus.WAITING]},
        details={"agent": callback.agent_id},
    )
    if callback.agent_id is not None:
        publish.agent_state_changed(
            organization_id=callback.organization_id, agent_id=callback.agent_id
        )
    # The agent is free again and the callback waits: where we route the calls
    # ourselves (Twilio's queues), decide again now, not at the next look.
    ports.agent_free(callback.organization_id)


@transaction.atomic
def callback_offers_expire(*, organization_id: int, now: datetime) -> int:
    """Offers nobody took within ``CALLBACK_OFFER_SECONDS`` lapse. Returns how many.
    Audited (``offer_lapse``)."""
    stale = (
        Callback.objects.for_organization(organization_id)
        .filter(
            status=CallbackStatus.OFFERED,
            offered_at__lte=now - timedelta(seconds=offer_seconds()),
        )
        .select_for_update(skip_locked=True)
    )
    lapsed = list(stale)
    for callback in lapsed:
        _withdraw(callback, "offer_lapse")
    return len(lapsed)


def _offered_to(callback_id: int, agent: Agent) -> Callback:
    callback = (
        Callback.objects.for_organization(agent.organization_id)
        .select_for_update()
        .filter(pk=callback_id)
        .first()
    )
    if callback is None:
        raise ApplicationError("No such callback.", code="not_found", status=404)
    if callback.status != CallbackStatus.OFFERED or callback.agent_id != agent.pk:
        raise ApplicationError(
            "This callback is not offered to you (any more).",
            code="callback_not_offered",
            status=409,
        )
    return callback


@transaction.atomic
def callback_offer_decline(*, callback_id: int, agent: Agent) -> Callback:
    """The agent declines the callback offered to them: it goes to someone else.
    Audited (``decline``)."""
    callback = _offered_to(callback_id, agent)
    _withdraw(callback, "decline")
    return callback


@transaction.atomic
def callback_offer_accept(*, callback_id: int, agent: Agent) -> Callback:
    """The agent takes the callback offered to them: an attempt starts (``dialing``).
    Audited (``callback.accept``)."""
    callback = _offered_to(callback_id, agent)
    callback.status = CallbackStatus.DIALING
    callback.attempts += 1
    callback.placed_call_sid = ""
    callback.save(update_fields=["status", "attempts", "placed_call_sid", "updated_at"])
    audit.record(
        action="accept",
        organization_id=callback.organization_id,
        obj=callback,
        details={"agent": agent.pk, "attempt": callback.attempts},
    )
    return callback


@transaction.atomic
def _placed(callback_id: int, call_key: str) -> Callback:
    callback = Callback.objects.select_for_update().get(pk=callback_id)
    if callback.status == CallbackStatus.DIALING and not callback.placed_call_sid:
        callback.placed_call_sid = call_key[:64]
        callback.save(update_fields=["placed_call_sid", "updated_at"])
        audit.record(
            action="placed",
            organization_id=callback.organization_id,
            obj=callback,
            changes={"placed_call_sid": ["", callback.placed_call_sid]},
        )
    return callback


async def callback_call(*, callback_id: int, agent: Agent, timeout: float) -> Callback:
    """The agent accepts the callback offered to them: the connection that places the
    organization's callbacks calls (Asterisk: their phone rings, then calls the customer,
    as a click-to-call; Twilio: REST calls the customer, then the agent's browser).
    Refused: the attempt counts as failed (retried on the schedule) and the error is
    raised."""
    callback = await database_sync_to_async(callback_offer_accept)(
        callback_id=callback_id, agent=agent
    )
    try:
        result = await call_originate(
            agent=agent, number=callback.number, timeout=timeout, callback_id=callback_id
        )
    except ApplicationError:
        await database_sync_to_async(callback_attempt_over)(
            callback_id=callback_id, outcome="failed", at=timezone.now()
        )
        raise
    call_key = str((result.data or {}).get("call") or "")
    return await database_sync_to_async(_placed)(callback_id, call_key)


def callback_attempts_settle(*, organization_id: int, now: datetime) -> int:
    """The attempts under way whose placed call has an outcome: answered (the customer
    picked up), or not reached and retried or given up. A placed call that never
    appears (a bridge died mid-way) is ``lost`` after ``LOST_AFTER``. Returns how many
    were settled. Only console-offered callbacks (an earlier version's Twilio routing
    followed its own). The placed call is the PBX's record of it, Asterisk's or Twilio's."""
    dialing = list(
        Callback.objects.for_organization(organization_id).filter(
            status=CallbackStatus.DIALING, offered_at__isnull=False
        )
    )
    keys = [c.placed_call_sid for c in dialing if c.placed_call_sid]
    calls = {
        c.external_id: c
        for c in Call.objects.for_organization(organization_id).filter(external_id__in=keys)
    }
    settled = 0
    for callback in dialing:
        call = calls.get(callback.placed_call_sid)
        if call is None:
            if callback.updated_at <= now - LOST_AFTER:
                settled += (
                    callback_attempt_over(callback_id=callback.pk, outcome="lost", at=now)
                    is not None
                )
            continue
        # The PBX's record of the placed call says how it went: its entry names that PBX.
        pbx = call.connection_key
        if call.answered_at is not None:
            answered = callback_attempt_answered(callback_id=callback.pk, connection_key=pbx)
            settled += answered is not None
        elif call.ended_at is not None:
            # The retry is timed from now, not from the PBX's clock (which may be off).
            outcome = _NOT_REACHED.get(CallStatus(call.status), "failed")
            over = callback_attempt_over(
                callback_id=callback.pk, outcome=outcome, at=now, connection_key=pbx
            )
            settled += over is not None
    return settled
