"""The Twilio webhooks: verify, translate, apply, answer. Nothing else happens here.

Every webhook is POST only, CSRF-exempt (Twilio has no token; the signature is the
proof) and refused with 403 unless signed by an enabled account's auth token. A signed
request whose fields do not parse is answered 400 and writes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from contactcenter import facts as te
from contactcenter.enums import CallSource
from contactcenter.models import Agent, Call, CallQueue
from contactcenter.models import Callback as KeptCallback
from contactcenter.phones import phone_try_normalize
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio import moving, phones, signature, translator, twiml
from telephony.twilio.callbacks import Hints, agent_name, parse_hints
from telephony.twilio.params import Callback, InvalidCallback, parse_callback
from telephony.twilio.recording_status import organization_records_all
from telephony.twilio.routing import callbacks as routing_callbacks
from telephony.twilio.routing import ringing as routing
from telephony.twilio.routing.exits import can_take_calls
from telephony.twilio.token import agent_identity

logger = logging.getLogger(__name__)

# ``From`` of a call placed by an agent's Voice SDK: client:<token.agent_identity>.
_BROWSER_AGENT = re.compile(r"^client:agent-([1-9][0-9]{0,17})$")
_NOT_AN_AGENT = "This phone is not signed in as an active agent. Goodbye."
_NO_CALLER_ID = "Outgoing calls have no caller ID set up. Please ask your administrator."
_NOT_A_NUMBER = "That is not a phone number we can dial. Please check it and call again."

# An agent's leg that ends while the others of a ring-all still ring: they rejected it,
# or it could not reach them ("canceled" and "completed" legs are the Dial's business).
REFUSED_LEG = frozenset({"busy", "failed"})

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


def _apply(account: TwilioAccount, facts: Sequence[te.Fact]) -> None:
    if facts:
        telephony_apply(
            organization_id=account.organization_id,
            connection_key=connection_key(account),
            events=facts,
        )
    if any(isinstance(f, te.AgentMemberState) and f.device == "idle" for f in facts):
        # An agent off the phone may be free for a waiting caller.
        routing.request(account.organization_id)


def _pick_queue(account: TwilioAccount, name: str) -> str:
    """The active queue named in our Voice URL (``?queue=``), else the first active one;
    none when that queue does not let callers join while no member can take a call."""
    queues = CallQueue.objects.for_organization(account.organization_id).filter(is_active=True)
    if name:
        queues = queues.filter(pbx_queue_name=name)
    queue = queues.order_by("name", "pk").first()
    if queue is None or (not queue.join_empty and not can_take_calls(queue)):
        return ""
    return queue.pbx_queue_name


@webhook
def voice(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """A call to one of our numbers: start the call and put the caller in a queue."""
    queue = _pick_queue(account, hints.queue)
    _apply(account, translator.incoming(callback, queue=queue, now=timezone.now()))
    if not queue:
        logger.warning(
            "Twilio call %s: no active queue %r that takes callers now",
            callback.call_sid,
            hints.queue,
        )
        return _twiml(twiml.unavailable())
    # The offer is made by the routing task, once Twilio has the caller in the queue.
    routing.request(account.organization_id)
    return _twiml(twiml.enqueue(queue))


def _browser_agent(account: TwilioAccount, caller: str) -> Agent | None:
    """The active agent of the account's organization whose softphone ``caller`` is."""
    match = _BROWSER_AGENT.match(caller)
    if match is None:
        return None
    agent: Agent | None = (
        Agent.objects.for_organization(account.organization_id)
        .filter(pk=int(match[1]), is_active=True)
        .first()
    )
    if agent is None or agent_name(agent_identity(agent)) != caller:
        return None
    return agent


def _is_open(account: TwilioAccount, call_sid: str) -> bool:
    calls = Call.objects.for_organization(account.organization_id).filter(
        source=CallSource.TWILIO, external_id=call_sid, ended_at__isnull=True
    )
    return bool(calls.exists())


@webhook
def client(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The TwiML app's Voice URL: an agent calls ``To`` from the browser softphone.

    Starts an outbound call placed by that agent and dials the customer from the
    account's caller ID. A caller that is not an active agent of the organization, a
    ``To`` that is no phone number, or an account without a caller ID is told why and
    hung up, and nothing is recorded.
    """
    agent = _browser_agent(account, callback.from_number)
    if agent is None:
        logger.warning(
            "Twilio call %s: %r is no active agent", callback.call_sid, callback.from_number
        )
        return _twiml(twiml.refuse(_NOT_AN_AGENT))
    if not account.caller_id:
        logger.warning("Twilio call %s: the account has no caller_id", callback.call_sid)
        return _twiml(twiml.refuse(_NO_CALLER_ID))
    number = phone_try_normalize(callback.to, region=account.organization.default_region)
    if number is None:
        # Not the value: it may be someone's number, mistyped.
        logger.warning("Twilio call %s: To is not a phone number", callback.call_sid)
        return _twiml(twiml.refuse(_NOT_A_NUMBER))
    name = agent_name(agent_identity(agent))
    now = timezone.now()
    facts = translator.client_call(
        callback, agent=name, caller_id=account.caller_id, callee=number, now=now
    )
    _apply(account, [*facts, *phones.placed(name, now=now)])
    document = twiml.dial_customer(
        base_url=request.build_absolute_uri("/").rstrip("/"),
        number=number,
        caller_id=account.caller_id,
        hints=Hints(by=name),
        record=organization_records_all(account.organization),
    )
    return _twiml(document)


@webhook
def status(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """StatusCallback of a call or of a leg we dialled; Twilio ignores the answer."""
    if translator.placed_from_browser(callback) and not _is_open(account, callback.call_sid):
        # The TwiML app reports every browser call: also those the client webhook
        # refused (not ours to record) and those the Dial action already ended with
        # Twilio's verdict (this "completed" would only add a second end).
        return HttpResponse(status=204)
    now = timezone.now()
    facts = translator.status(callback, hints, now=now)
    _apply(account, [*facts, *phones.status(callback, hints, now=now)])
    _follow_offer(account, callback, hints, now)
    return HttpResponse(status=204)


def _follow_offer(account: TwilioAccount, callback: Callback, hints: Hints, now: datetime) -> None:
    """What a status callback says of a routing offer (telephony/twilio/routing/)."""
    organization_id, at = account.organization_id, callback.timestamp or now
    if hints.callback and not callback.is_child:
        freed = routing_callbacks.follow(
            organization_id=organization_id,
            callback=hints.callback,
            status=callback.status,
            at=at,
            connection_key=connection_key(account),
        )
        if freed or callback.status == "in-progress" or translator.call_is_over(callback):
            # The placed call's record says how the attempt went: settled by the
            # routing's next look (routing/callbacks.py, tend).
            routing.request(organization_id)
        return
    if callback.is_child:
        if callback.status == "in-progress" and hints.queue and not hints.transfer:
            agent = callback.to if callback.to.startswith("client:") else hints.agent
            routing.offer_answered(
                organization_id=organization_id,
                call_sid=callback.parent_call_sid,
                agent=agent,
                at=at,
                leg_sid=callback.call_sid,
            )
        elif callback.status in REFUSED_LEG and hints.queue and not hints.transfer:
            agent = callback.to if callback.to.startswith("client:") else hints.agent
            routing.ring_all_leg_refused(
                organization_id=organization_id,
                call_sid=callback.parent_call_sid,
                agent=agent,
                at=at,
            )
    elif translator.call_is_over(callback):
        routing.call_over(organization_id=organization_id, call_sid=callback.call_sid, at=at)
        # Its agent, busy while the call was live, may take a waiting caller now.
        routing.request(organization_id)


@webhook
def queue_result(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The Enqueue action: the caller left the queue; nothing more to play (but thanks,
    for a caller who left with a callback kept: telephony/twilio/waiting.py)."""
    _apply(account, translator.queue_result(callback, hints, now=timezone.now()))
    if (
        callback.queue_result == "leave"
        and KeptCallback.objects.filter(
            organization_id=account.organization_id, call__external_id=callback.call_sid
        ).exists()
    ):
        return _twiml(twiml.callback_kept())
    return _twiml(twiml.empty())


@webhook
def dial_result(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The Dial action: the dialled leg is over; a caller no agent took goes back in line.
    A routed call whose agent's leg we moved into a conference for a supervisor goes on
    there: the caller joins the same room, and nothing is over (telephony/twilio/moving.py).
    """
    if _moved(callback, hints):
        room = moving.caller_joins(account.organization_id, callback.call_sid, queue=hints.queue)
        if room:
            return _twiml(room)
    now = timezone.now()
    if hints.queue and not hints.agent and not hints.transfer and not hints.by:
        # A ring-all queue's <Dial> of several agents: the offers say who answered.
        agent = routing.ring_all_over(
            organization_id=account.organization_id,
            call_sid=callback.call_sid,
            connected=translator.dial_connected(callback),
            leg_sid=callback.dial_call_sid,
            at=now,
        )
        hints = replace(hints, agent=agent)
        _apply(account, translator.dial_result(callback, hints, now=now))
    else:
        facts = translator.dial_result(callback, hints, now=now)
        if hints.room:  # its conference is over, and every monitoring of it
            facts += moving.sessions_over(account.organization_id, callback.call_sid, at=now)
        _apply(account, [*facts, *phones.dial_over(callback, hints, now=now)])
        if hints.queue and hints.agent and not hints.transfer:
            routing.offer_over(
                organization_id=account.organization_id,
                call_sid=callback.call_sid,
                agent=hints.agent,
                connected=translator.dial_connected(callback),
                at=now,
            )
    if translator.should_requeue(callback, hints):
        return _twiml(twiml.enqueue(hints.queue))
    return _twiml(twiml.empty())


def _moved(callback: Callback, hints: Hints) -> bool:
    """The Dial action of a routed call whose connected agent's leg left the <Dial> with
    the caller still on the line: hung up, or moved into a conference by us."""
    return (
        bool(hints.queue)
        and not hints.transfer
        and not hints.room
        and callback.status == "in-progress"
        and translator.dial_connected(callback)
    )
