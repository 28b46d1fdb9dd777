"""Callers taken out of a Twilio queue by us: the queue's maximum wait passed, or (a
``leave_empty`` queue, app_queue's leavewhenempty) none of its members could take a
call. What then is the queue's ``max_wait_action``:

- ``voicemail``: the caller leaves a message (``<Record>``, telephony/twilio/voicemail.py);
- ``callback``: the caller is offered a callback (one key), else told goodbye;
- ``queue``: the caller waits in ``max_wait_queue`` (routed there from now on; the
  call's record keeps the queue it joined, its timeline shows the move);
- ``hangup``: ``max_wait_message`` (or a default) is said, and the call ends;
- ``stay``: the caller keeps waiting past the maximum; a leave-when-empty exit then
  says the queue's message (or "nobody can take your call") and hangs up.

The decision (``take_exits``, inside ``decide``'s transaction and lock) writes one
``TwilioQueueExit`` per caller and queue, which is both the claim (two processes
never both take the caller out) and the record; after commit ``send`` redirects the
call (REST) to the ``queue-exit/`` webhook, which answers the action's TwiML
(``answer``). An exit not sent (its process died) is sent again by the repair job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contactcenter.enums import AgentState, QueueMaxWaitAction
from contactcenter.models import Call, CallQueue
from contactcenter.services import audit
from telephony.models import ExitReason, TwilioAccount, TwilioQueueExit
from telephony.twilio import actions, twiml
from telephony.twilio.callbacks import Hints, webhook_path, webhook_url

logger = logging.getLogger(__name__)

DEFAULT_MESSAGE = "Sorry, no one can take your call right now. Please call again later."
CALLBACK_OFFER = "No one is free yet. To be called back at this number, press 1."
GOODBYE = "Thank you for calling. Goodbye."
# An exit Twilio was not asked to redirect within this long: its process died.
SEND_SECONDS = 15


@dataclass
class Gone:
    calls: set[int] = field(default_factory=set)  # callers no longer to offer
    exits: list[TwilioQueueExit] = field(default_factory=list)  # to send after commit
    next_check: datetime | None = None  # the next maximum wait to come


def can_take_calls(queue: CallQueue) -> bool:
    """A member who could be offered a call, now or after their call: logged in, not
    paused, active, and neither offline nor paused as an agent (join_empty and
    leave_empty, as app_queue's default "paused,unavailable")."""
    members = queue.memberships.filter(is_logged_in=True, paused=False, agent__is_active=True)
    return bool(members.exclude(agent__state__in=(AgentState.OFFLINE, AgentState.PAUSED)).exists())


def take_exits(organization_id: int, calls: list[Call], now: datetime) -> Gone:
    """Claim an exit for each of ``calls`` (waiting, in ``call.queue`` since
    ``call.queued_at``) that waited its queue's maximum or is alone in a leave-empty
    queue. Runs under ``decide``'s lock."""
    gone = Gone()
    empty: dict[int, bool] = {}
    for call in calls:
        queue = call.queue
        assert queue is not None  # waiting_calls' filter
        since = call.queued_at or call.started_at
        reason = None
        deadline = since + timedelta(seconds=queue.max_wait_seconds)
        if queue.max_wait_action != QueueMaxWaitAction.STAY and deadline <= now:
            reason = ExitReason.MAX_WAIT
        elif queue.leave_empty:
            if queue.pk not in empty:
                empty[queue.pk] = not can_take_calls(queue)
            if empty[queue.pk]:
                reason = ExitReason.EMPTY
        if reason is None:
            if queue.max_wait_action != QueueMaxWaitAction.STAY:
                first = gone.next_check
                gone.next_check = deadline if first is None else min(first, deadline)
            continue
        exit_ = _claim(organization_id, call, queue, reason, now)
        if exit_ is not None:
            gone.calls.add(call.pk)
            gone.exits.append(exit_)
    return gone


def _action(queue: CallQueue, reason: str) -> tuple[str, CallQueue | None]:
    action, target = queue.max_wait_action, queue.max_wait_queue
    if action == QueueMaxWaitAction.QUEUE and (
        target is None or not target.is_active or target.pk == queue.pk
    ):
        logger.warning("Queue %s: max_wait_queue is not an active other queue", queue.pk)
        action, target = QueueMaxWaitAction.HANGUP, None
    if action == QueueMaxWaitAction.STAY:  # only a leave-when-empty exit gets here
        action = QueueMaxWaitAction.HANGUP
    return action, target if action == QueueMaxWaitAction.QUEUE else None


def _claim(
    organization_id: int, call: Call, queue: CallQueue, reason: str, now: datetime
) -> TwilioQueueExit | None:
    action, target = _action(queue, reason)
    try:
        with transaction.atomic():  # a savepoint: the decision goes on after a refusal
            exit_ = TwilioQueueExit.objects.create(
                organization_id=organization_id,
                call=call,
                queue=queue,
                reason=reason,
                action=action,
                to_queue=target,
                created_at=now,
            )
            _audit(exit_, call, queue)
            return exit_
    except IntegrityError:  # already taken out of this queue (a concurrent decision)
        return None


def _audit(exit_: TwilioQueueExit, call: Call, queue: CallQueue) -> None:
    audit.record(
        action="routing.exit",
        organization_id=exit_.organization_id,
        obj=call,
        details={
            "queue": queue.pbx_queue_name,
            "reason": exit_.reason,
            "action": exit_.action,
            "to_queue": exit_.to_queue.pbx_queue_name if exit_.to_queue else "",
        },
    )


def send(exit_: TwilioQueueExit) -> bool:
    """Ask Twilio to take the caller out of the queue, to the ``queue-exit/`` webhook."""
    from telephony.twilio.routing.ringing import CALL_GONE, caller_gone, request

    account = TwilioAccount.objects.get(organization_id=exit_.organization_id)
    call = Call.objects.get(pk=exit_.call_id)
    queue = CallQueue.objects.get(pk=exit_.queue_id)
    url = webhook_url(settings.PUBLIC_URL, "queue-exit", Hints(queue=queue.pbx_queue_name))
    result = actions.redirect(account, call.external_id, url=url)
    now = timezone.now()
    if result.ok or result.code in CALL_GONE:
        TwilioQueueExit.objects.filter(pk=exit_.pk).update(redirected_at=now)
    if result.ok:
        return True
    logger.warning("Twilio routing: taking %s out of %s refused: %s", call, queue, result.message)
    if result.code in CALL_GONE:
        caller_gone(account, call, now)
        request(exit_.organization_id)
    return False


def resend(now: datetime) -> None:
    """Exits whose process died before Twilio was asked (the repair job)."""
    unsent = TwilioQueueExit.objects.filter(
        redirected_at__isnull=True,
        created_at__lt=now - timedelta(seconds=SEND_SECONDS),
        call__ended_at__isnull=True,
    )
    for exit_ in unsent:
        send(exit_)


def latest_exit(account: TwilioAccount, call_sid: str) -> TwilioQueueExit | None:
    return (
        TwilioQueueExit.objects.for_organization(account.organization_id)
        .filter(call__external_id=call_sid)
        .select_related("queue", "to_queue", "call")
        .order_by("-created_at", "-pk")
        .first()
    )


def voicemail_path(queue: str) -> str:
    """The voicemail webhook of ``queue`` (telephony/twilio/voicemail.py)."""
    return f"{reverse('twilio:voicemail')}?{urlencode({'queue': queue})}"


def answer(exit_: TwilioQueueExit, *, can_call_back: bool) -> str:
    """The TwiML of the exit's action, for the caller just taken out of the queue."""
    queue = exit_.queue
    action = exit_.action
    if action == QueueMaxWaitAction.QUEUE and exit_.to_queue is not None:
        return twiml.enqueue(exit_.to_queue.pbx_queue_name)
    if action == QueueMaxWaitAction.VOICEMAIL:
        return twiml.redirect(voicemail_path(queue.pbx_queue_name))
    if action == QueueMaxWaitAction.CALLBACK and can_call_back:
        return twiml.offer_callback(
            action=webhook_path("queue-exit", Hints(queue=queue.pbx_queue_name)),
            offer=CALLBACK_OFFER,
            goodbye=GOODBYE,
        )
    return twiml.refuse(queue.max_wait_message or DEFAULT_MESSAGE)
