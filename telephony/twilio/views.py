"""The Twilio webhooks: verify, translate, apply, answer. Nothing else happens here.

Every webhook is POST only, CSRF-exempt (Twilio has no token; the signature is the
proof) and refused with 403 unless signed by an enabled account's auth token. A signed
request whose fields do not parse is answered 400 and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from contactcenter import telephony_events as te
from contactcenter.models import CallQueue
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio import signature, translator, twiml
from telephony.twilio.callbacks import Hints, parse_hints
from telephony.twilio.params import Callback, InvalidCallback, parse_callback

logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest, TwilioAccount, Callback, Hints], HttpResponse]


def connection_key(account: TwilioAccount) -> str:
    return f"twilio:{account.account_sid}"


def _error(status: int, code: str, detail: str) -> JsonResponse:
    # The same body shape as the REST API's errors (drf-standardized-errors).
    return JsonResponse(
        {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]},
        status=status,
    )


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


def webhook(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @wraps(handler)
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        verdict = signature.verify(request)
        if verdict.account is None:
            signature.log_refusal(request, verdict)
            return _error(403, "twilio_signature_invalid", "The request is not signed by Twilio.")
        try:
            callback = parse_callback(request.POST)
            hints = parse_hints(request.GET)
        except InvalidCallback as exc:
            logger.warning("Twilio webhook %s: bad request: %s", request.path, exc)
            return _error(400, "twilio_invalid_request", str(exc))
        return handler(request, verdict.account, callback, hints)

    return view


def _apply(account: TwilioAccount, facts: Sequence[te.CallFact]) -> None:
    if facts:
        telephony_apply(
            organization_id=account.organization_id,
            connection_key=connection_key(account),
            events=facts,
        )


def _pick_queue(account: TwilioAccount, name: str) -> str:
    """The active queue named in our Voice URL (``?queue=``), else the first active one."""
    queues = CallQueue.objects.for_organization(account.organization_id).filter(is_active=True)
    if name:
        queues = queues.filter(pbx_queue_name=name)
    queue = queues.order_by("name", "pk").first()
    return queue.pbx_queue_name if queue is not None else ""


@webhook
def voice(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """A call to one of our numbers: start the call and put the caller in a queue."""
    queue = _pick_queue(account, hints.queue)
    _apply(account, translator.incoming(callback, queue=queue, now=timezone.now()))
    if not queue:
        logger.warning("Twilio call %s: no active queue %r", callback.call_sid, hints.queue)
        return _twiml(twiml.unavailable())
    return _twiml(twiml.enqueue(queue))


@webhook
def status(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """StatusCallback of a call or of a leg we dialled; Twilio ignores the answer."""
    _apply(account, translator.status(callback, hints, now=timezone.now()))
    return HttpResponse(status=204)


@webhook
def queue_result(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The Enqueue action: the caller left the queue; nothing more to play."""
    _apply(account, translator.queue_result(callback, hints, now=timezone.now()))
    return _twiml(twiml.empty())


@webhook
def dial_result(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The Dial action: the dialled leg is over; a caller no agent took goes back in line."""
    _apply(account, translator.dial_result(callback, hints, now=timezone.now()))
    if translator.should_requeue(callback, hints):
        return _twiml(twiml.enqueue(hints.queue))
    return _twiml(twiml.empty())
