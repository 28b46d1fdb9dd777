"""While a caller waits in a Twilio queue: where they are in line, and the key that
asks to be called back instead (docs/callbacks.md).

The Enqueue's ``waitUrl`` is ``wait/``: Twilio asks it with the caller's
``QueuePosition`` when they join and again each time its TwiML has played. It answers
a ``<Gather>`` of one key (the position and the offer, said) and hold music; pressing
1 requests ``callback-request/``, which keeps a Callback with the caller's place and
takes them out of the queue (``<Leave>``); the Enqueue action (queue-result) then
thanks them and hangs up. The offer is made only when the account has a caller ID to
call back from; the position and the estimated wait (``AvgQueueTime``) always.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from contactcenter.enums import CallSource
from contactcenter.errors import ApplicationError
from contactcenter.models import Call
from contactcenter.services.callbacks import callback_schedule
from telephony.models import TwilioAccount
from telephony.twilio import twiml
from telephony.twilio.callbacks import Hints
from telephony.twilio.params import Callback as TwilioCallback
from telephony.twilio.views import webhook

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
    document = twiml.waiting(
        position=_count(request, "QueuePosition"),
        average_wait=_count(request, "AvgQueueTime"),
        queue=hints.queue,
        offer=bool(account.caller_id),
    )
    return HttpResponse(document, content_type="text/xml")


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
        callback_schedule(queue=queue, number=callback.from_number, call=call)
    except ApplicationError as exc:  # a withheld or foreign number: nothing to call back
        logger.info("Twilio call %s: no callback: %s", callback.call_sid, exc.message)
        return HttpResponse(
            twiml.waiting(position=None, queue=hints.queue, offer=False), content_type="text/xml"
        )
    return HttpResponse(twiml.leave(), content_type="text/xml")
