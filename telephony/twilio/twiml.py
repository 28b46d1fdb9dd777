"""The TwiML documents we answer Twilio with (and send through the REST API)."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, VoiceResponse

from telephony.twilio.callbacks import CLIENT_PREFIX, STATUS_EVENTS, Hints, webhook_path


def empty() -> str:
    """Nothing more to do: Twilio ends the call (or ignores it, for status callbacks)."""
    return str(VoiceResponse())


def enqueue(queue: str) -> str:
    """Put the caller in ``queue``; Twilio posts to our queue-result webhook when they leave.

    No ``waitUrl``: callers hear Twilio's default hold music until a queue has its own.
    """
    response = VoiceResponse()
    response.enqueue(queue, action=webhook_path("queue-result", Hints(queue=queue)), method="POST")
    return str(response)


def unavailable() -> str:
    response = VoiceResponse()
    response.say("Sorry, no one can take your call right now. Please call again later.")
    response.hangup()
    return str(response)


def dial(
    *,
    base_url: str,
    client: str = "",
    number: str = "",
    hints: Hints,
    timeout: int = 20,
    caller_id: str = "",
) -> str:
    """Ring an agent's client (or a number); every leg reports to our status webhook.

    ``hints`` go into both the leg's status callback and the Dial action, so each of
    them can tell which agent, queue and transfer the leg was for. Absolute URLs,
    because this TwiML is sent through the REST API, not answered to a webhook.
    """
    status_url = base_url.rstrip("/") + webhook_path("status", hints)
    action_url = base_url.rstrip("/") + webhook_path("dial-result", hints)
    attributes: dict[str, object] = {"action": action_url, "method": "POST", "timeout": timeout}
    if caller_id:
        attributes["caller_id"] = caller_id
    verb = Dial(**attributes)
    callback = {
        "status_callback": status_url,
        "status_callback_event": " ".join(STATUS_EVENTS),
        "status_callback_method": "POST",
    }
    if client:
        verb.client(client.removeprefix(CLIENT_PREFIX), **callback)
    else:
        verb.number(number, **callback)
    response = VoiceResponse()
    response.append(verb)
    return str(response)
