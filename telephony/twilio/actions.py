"""Commands to Twilio through its REST API: hang up, connect an agent, transfer, originate.

Plain functions of the organization's TwilioAccount. Each answers an ``ActionResult``
and never raises for Twilio's sake: a refusal (TwilioRestException) or an unreachable
API becomes ``ok=False`` with the message, for the console to show. Nothing is written
here: what the command causes comes back through the webhooks, like any other call.

``http_client`` is twilio's own seam (a ``twilio.http.HttpClient``): tests pass one
that records requests and answers canned responses. ``base_url`` is the public root of
this server (``https://cc.example.com``), which callbacks need and a REST call, having
no request to be relative to, cannot guess.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from telephony.models import TwilioAccount
from telephony.twilio import twiml
from telephony.twilio.callbacks import STATUS_EVENTS, Hints, agent_name, webhook_url

logger = logging.getLogger(__name__)

# The default client waits forever; a console command must not.
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionResult:
    ok: bool
    call_sid: str = ""
    transfer_key: str = ""
    message: str = ""
    code: int | None = None  # Twilio's error code, when it gave one


_TWILIO_API = "https://api.twilio.com"


class _BaseUrlHttpClient(TwilioHttpClient):
    """twilio's client, sending to ``TWILIO_API_BASE_URL`` instead of api.twilio.com
    (the client builds absolute URLs itself; a local fake of the API needs this)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=TIMEOUT_SECONDS)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(_TWILIO_API):
            url = self.base_url + url.removeprefix(_TWILIO_API)
        return super().request(method, url, *args, **kwargs)


def _default_http_client() -> HttpClient:
    base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    if base_url == _TWILIO_API:
        return TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    return _BaseUrlHttpClient(base_url)


def _client(account: TwilioAccount, http_client: HttpClient | None) -> Client:
    return Client(
        account.account_sid, account.auth_token, http_client=http_client or _default_http_client()
    )


def _run(what: str, account: TwilioAccount, command: Callable[[], ActionResult]) -> ActionResult:
    try:
        return command()
    except TwilioRestException as exc:
        logger.warning(
            "Twilio %s %s refused: %s (%s)", account.account_sid, what, exc.msg, exc.code
        )
        return ActionResult(ok=False, message=str(exc.msg), code=exc.code)
    except (TwilioException, OSError) as exc:  # OSError covers requests' connection errors
        logger.warning("Twilio %s %s failed: %s", account.account_sid, what, exc)
        return ActionResult(ok=False, message=f"Twilio could not be reached: {exc}")


def hangup(
    account: TwilioAccount, call_sid: str, *, http_client: HttpClient | None = None
) -> ActionResult:
    """End the call (all its legs)."""

    def command() -> ActionResult:
        call = _client(account, http_client).calls(call_sid).update(status="completed")
        return ActionResult(ok=True, call_sid=str(call.sid or call_sid))

    return _run("hangup", account, command)


def connect_agent(
    account: TwilioAccount,
    call_sid: str,
    *,
    agent: str,
    base_url: str,
    queue: str = "",
    timeout: int = 20,
    record: bool = False,
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Take a waiting caller out of the queue and ring ``agent`` (client identity) for
    ``timeout`` seconds; ``record``: the call is recorded once the agent answers.

    If the agent does not answer, the Dial action puts the caller back in ``queue``.
    """
    hints = Hints(agent=agent_name(agent), queue=queue)
    document = twiml.dial(
        base_url=base_url,
        client=hints.agent,
        hints=hints,
        timeout=timeout,
        parameters=_call_parameters(call_sid),
        record=record,
    )
    return _redirect("connect", account, call_sid, document, http_client)


def connect_agents(
    account: TwilioAccount,
    call_sid: str,
    *,
    agents: Sequence[str],
    base_url: str,
    queue: str,
    timeout: int = 20,
    record: bool = False,
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Ring several agents at once with a waiting caller (a ring-all queue); the first to
    answer takes the call, Twilio hangs up the others' legs. Nobody answers: the Dial
    action puts the caller back in ``queue``."""
    document = twiml.dial_clients(
        base_url=base_url,
        clients=[agent_name(agent) for agent in agents],
        queue=queue,
        timeout=timeout,
        parameters=_call_parameters(call_sid),
        record=record,
    )
    return _redirect("connect", account, call_sid, document, http_client)


def redirect(
    account: TwilioAccount, call_sid: str, *, url: str, http_client: HttpClient | None = None
) -> ActionResult:
    """Take the call out of what it is doing (a queue) to the TwiML at ``url``."""
    return _redirect("redirect", account, call_sid, twiml.redirect(url), http_client)


def update_twiml(
    account: TwilioAccount, call_sid: str, *, document: str, http_client: HttpClient | None = None
) -> ActionResult:
    """Give the call (or a dialled leg of one) new TwiML: it leaves what it was doing."""
    return _redirect("update", account, call_sid, document, http_client)


def transfer(
    account: TwilioAccount,
    call_sid: str,
    *,
    base_url: str,
    to_agent: str = "",
    to_number: str = "",
    from_agent: str = "",
    caller_id: str = "",
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Blind transfer: the caller (parent ``call_sid``) now rings ``to_agent`` or ``to_number``.

    The agent on the call is dropped as the caller's TwiML is replaced. The returned
    ``transfer_key`` names the transfer in the facts its callbacks bring back.
    """
    if bool(to_agent) == bool(to_number):
        return ActionResult(ok=False, message="Give exactly one of to_agent and to_number.")
    key = f"twilio-transfer:{uuid.uuid4().hex}"
    hints = Hints(
        agent=agent_name(to_agent) if to_agent else "",
        transfer=key,
        from_agent=agent_name(from_agent) if from_agent else "",
    )
    document = twiml.dial(
        base_url=base_url,
        client=hints.agent,
        number=to_number,
        hints=hints,
        caller_id=caller_id,
        parameters=_call_parameters(call_sid),
    )
    result = _redirect("transfer", account, call_sid, document, http_client)
    return ActionResult(
        ok=result.ok,
        call_sid=result.call_sid,
        transfer_key=key if result.ok else "",
        message=result.message,
        code=result.code,
    )


def _call_parameters(call_sid: str) -> dict[str, str]:
    """What the agent's console gets with a ringing ``<Client>`` (``customParameters``):
    the parent CallSid, which is the Call record's ``external_id``."""
    return {"cc_call_sid": call_sid}


def _redirect(
    what: str, account: TwilioAccount, call_sid: str, document: str, http_client: HttpClient | None
) -> ActionResult:
    def command() -> ActionResult:
        call = _client(account, http_client).calls(call_sid).update(twiml=document)
        return ActionResult(ok=True, call_sid=str(call.sid or call_sid))

    return _run(what, account, command)


def originate(
    account: TwilioAccount,
    *,
    to: str,
    from_number: str,
    agent: str,
    base_url: str,
    callback: int | None = None,
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Click-to-call: dial ``to`` from ``from_number``; once answered, ring the agent's client.

    The call reports to our status webhook with the agent in its URL, so its callbacks
    (Direction ``outbound-api``) become an outbound call placed by that agent; and, for
    a call placed for one of our Callbacks, the ``callback`` id too.
    """
    hints = Hints(agent=agent_name(agent), callback="" if callback is None else str(callback))

    def command() -> ActionResult:
        call = _client(account, http_client).calls.create(
            to=to,
            from_=from_number,
            # The call's sid is Twilio's answer to this request: the agent's console
            # finds the call by the customer's number instead.
            twiml=twiml.dial(
                base_url=base_url,
                client=hints.agent,
                hints=hints,
                parameters={"cc_customer": to, "cc_direction": "outbound"},
            ),
            status_callback=webhook_url(base_url, "status", hints),
            status_callback_event=STATUS_EVENTS,
            status_callback_method="POST",
        )
        return ActionResult(ok=True, call_sid=str(call.sid or ""))

    return _run("originate", account, command)


def delete_recording(
    account: TwilioAccount, recording_sid: str, *, http_client: HttpClient | None = None
) -> ActionResult:
    """Delete a recording (its media and its resource) from Twilio; one Twilio no longer
    has (20404) counts as deleted."""

    def command() -> ActionResult:
        _client(account, http_client).recordings(recording_sid).delete()
        return ActionResult(ok=True)

    result = _run("recording delete", account, command)
    return ActionResult(ok=True, code=result.code) if result.code == 20404 else result
