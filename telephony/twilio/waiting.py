"""While a caller waits in a Twilio queue: where they are in line, and the key that
asks to be called back instead (docs/callbacks.md).

The Enqueue's ``waitUrl`` is ``wait/``: Twilio asks it with the caller's
``QueuePosition`` when they join and again each time its TwiML has played. It answers
a ``<Gather>`` of one key (the position and the offer, said) and hold music; pressing
1 requests ``callback-request/``, which keeps a Callback with the caller's place and
takes them out of the queue (``<Leave>``); the Enqueue action (queue-result) then
thanks them and hangs up. The offer is made only when the account has a caller ID to
call back from; the position and the estimated wait (``expected_wait``) always.

``queue-exit/`` is where the routing sends a caller it takes out of a queue (the
maximum wait, leave-when-empty: telephony/twilio/routing/exits.py): the queue's
``max_wait_action``, and the key pressed at its callback offer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Avg
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallSource, QueueMaxWaitAction
from contactcenter.errors import ApplicationError
from contactcenter.models import Call, CallQueue
from contactcenter.services.callbacks import callback_schedule
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount, TwilioQueueExit
from telephony.twilio import twiml
from telephony.twilio.callbacks import Hints
from telephony.twilio.params import Callback as TwilioCallback
from telephony.twilio.routing import exits
from telephony.twilio.routing import ringing as routing
from telephony.twilio.views import connection_key, webhook

logger = logging.getLogger(__name__)

CALLBACK_KEY = "1"


def _count(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else None


@webhook
def wait(
    request: HttpRequest, account: TwilioAccount, callback: TwilioCallback, hints: Hints
) -> HttpResponse:
    """The queue's wait music, with the position, the estimated wait and, when the
    account has a caller ID to call back from, the callback offer."""
    expected = expected_wait(account.organization_id, hints.queue, timezone.now())
    document = twiml.waiting(
        position=_count(request, "QueuePosition"),
        average_wait=expected if expected is not None else _count(request, "AvgQueueTime"),
        queue=hints.queue,
        offer=bool(account.caller_id),
    )
    return HttpResponse(document, content_type="text/xml")


# How far back the answered calls that make the estimated wait go.
EXPECTED_WAIT_WINDOW = timedelta(hours=1)


def expected_wait(organization_id: int, queue: str, now: datetime) -> int | None:
    """The estimated wait in ``queue``: how long its callers answered in the last hour
    waited, on average (app_queue's announced holdtime is such a running average of
    the answered callers' waits). None without such calls: Twilio's ``AvgQueueTime``
    (how long the callers now in line have waited) is said instead."""
    queue_id = (
        CallQueue.objects.for_organization(organization_id)
        .filter(pbx_queue_name=queue)
        .values_list("pk", flat=True)
        .first()
    )
    if queue_id is None:
        return None
    answered = Call.objects.for_organization(organization_id).filter(
        queue_id=queue_id,
        # Bounded by the queue's (organization, queue, queued_at) index: a wait of over
        # an hour is left out of the average.
        queued_at__gte=now - 2 * EXPECTED_WAIT_WINDOW,
        answered_at__gte=now - EXPECTED_WAIT_WINDOW,
        wait_seconds__isnull=False,
    )
    average = answered.aggregate(average=Avg("wait_seconds"))["average"]
    return None if average is None else round(average)


def _waiting_call(account: TwilioAccount, call_sid: str) -> Call | None:
    return (
        Call.objects.for_organization(account.organization_id)
        .filter(source=CallSource.TWILIO, external_id=call_sid, ended_at__isnull=True)
        .select_related("queue")
        .first()
    )


@webhook
def callback_request(
    request: HttpRequest, account: TwilioAccount, callback: TwilioCallback, hints: Hints
) -> HttpResponse:
    """The caller pressed a key while waiting: 1 keeps a callback and leaves the queue."""
    if request.POST.get("Digits", "") != CALLBACK_KEY or not account.caller_id:
        document = twiml.waiting(position=None, queue=hints.queue, offer=bool(account.caller_id))
        return HttpResponse(document, content_type="text/xml")
    call = _waiting_call(account, callback.call_sid)
    queue = call.queue if call is not None else None
    if call is None or queue is None:
        return HttpResponse(twiml.empty(), content_type="text/xml")
    try:
        callback_schedule(
            queue=queue,
            number=callback.from_number,
            call=call,
            connection_key=connection_key(account),
        )
    except ApplicationError as exc:  # a withheld or foreign number: nothing to call back
        logger.info("Twilio call %s: no callback: %s", callback.call_sid, exc.message)
        return HttpResponse(
            twiml.waiting(position=None, queue=hints.queue, offer=False), content_type="text/xml"
        )
    return HttpResponse(twiml.leave(), content_type="text/xml")


@webhook
def queue_exit(
    request: HttpRequest, account: TwilioAccount, callback: TwilioCallback, hints: Hints
) -> HttpResponse:
    """A caller we took out of a queue (telephony/twilio/routing/exits.py): what the
    queue does then; and, for the callback offer, the key pressed."""
    exit_ = exits.latest_exit(account, callback.call_sid)
    if exit_ is None:  # not one of our exits: nothing to go on with
        return HttpResponse(twiml.refuse(exits.DEFAULT_MESSAGE), content_type="text/xml")
    if exit_.action == QueueMaxWaitAction.CALLBACK and "Digits" in request.POST:
        return HttpResponse(
            _exit_callback(request, account, callback, exit_), content_type="text/xml"
        )
    if exit_.action == QueueMaxWaitAction.QUEUE and exit_.to_queue is not None:
        moved = te.QueueJoined(
            call_key=callback.call_sid,
            at=timezone.now(),
            dedup_key=f"twilio:{callback.call_sid}:exit:{exit_.pk}:queued",
            source=CallSource.TWILIO,
            queue=exit_.to_queue.pbx_queue_name,
        )
        telephony_apply(
            organization_id=account.organization_id,
            connection_key=connection_key(account),
            events=[moved],
        )
        routing.request(account.organization_id)
    document = exits.answer(exit_, can_call_back=bool(account.caller_id))
    return HttpResponse(document, content_type="text/xml")


def _exit_callback(
    request: HttpRequest,
    account: TwilioAccount,
    callback: TwilioCallback,
    exit_: TwilioQueueExit,
) -> str:
    if request.POST.get("Digits", "") != CALLBACK_KEY:
        return twiml.refuse(exits.GOODBYE)
    try:
        callback_schedule(
            queue=exit_.queue,
            number=callback.from_number,
            call=exit_.call,
            connection_key=connection_key(account),
        )
    except ApplicationError as exc:  # a withheld or foreign number: nothing to call back
        logger.info("Twilio call %s: no callback: %s", callback.call_sid, exc.message)
        return twiml.refuse(exits.GOODBYE)
    return twiml.callback_kept()
