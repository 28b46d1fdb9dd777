"""The TwiML documents we answer Twilio with (and send through the REST API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.twiml.voice_response import Dial, VoiceResponse

from telephony.twilio.callbacks import CLIENT_PREFIX, STATUS_EVENTS, Hints, webhook_path
from telephony.twilio.recording_status import dial_recording


def empty() -> str:
    """Nothing more to do: Twilio ends the call (or ignores it, for status callbacks)."""
    return str(VoiceResponse())


# Twilio's own hold music (what its default waitUrl plays).
HOLD_MUSIC = "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
CALLBACK_THANKS = "Thank you. We will call you back at this number. Goodbye."


def enqueue(queue: str) -> str:
    """Put the caller in ``queue``; Twilio posts to our queue-result webhook when they leave.

    The wait is ours (``wait/``, telephony/twilio/waiting.py): the position, the
    estimated wait and, where callbacks can be placed, the key that asks for one; then
    hold music.
    """
    response = VoiceResponse()
    response.enqueue(
        queue,
        action=webhook_path("queue-result", Hints(queue=queue)),
        method="POST",
        wait_url=webhook_path("wait", Hints(queue=queue)),
        wait_url_method="POST",
    )
    return str(response)


def _announcement(position: int | None, average_wait: int | None) -> str:
    words = f"You are number {position} in line. " if position else ""
    if average_wait is not None and average_wait >= 60:
        minutes = round(average_wait / 60)
        words += f"The wait is about {minutes} minute{'s' if minutes != 1 else ''}. "
    return words


def waiting(
    *, position: int | None, queue: str, offer: bool = True, average_wait: int | None = None
) -> str:
    """The wait: the caller's position and the estimated wait (Twilio's average wait
    in the queue), the callback offer (one key) when ``offer``, then music."""
    response = VoiceResponse()
    words = _announcement(position, average_wait)
    if offer:
        gather = response.gather(
            num_digits=1,
            timeout=3,
            action=webhook_path("callback-request", Hints(queue=queue)),
            method="POST",
        )
        gather.say(words + "To keep your place and be called back, press 1.")
    elif words:
        response.say(words)
    response.play(HOLD_MUSIC)
    return str(response)


def leave() -> str:
    """Out of the queue (the Enqueue action follows)."""
    response = VoiceResponse()
    response.leave()
    return str(response)


def callback_kept() -> str:
    return refuse(CALLBACK_THANKS)


def unavailable() -> str:
    return refuse("Sorry, no one can take your call right now. Please call again later.")


def offer_callback(*, action: str, offer: str, goodbye: str) -> str:
    """Offer a callback (one key, posted to ``action``); no key: goodbye."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=5, action=action, method="POST")
    gather.say(offer)
    response.say(goodbye)
    response.hangup()
    return str(response)


def refuse(message: str) -> str:
    """Say why, and end the call."""
    response = VoiceResponse()
    response.say(message)
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
    parameters: Mapping[str, str] | None = None,
    record: bool = False,
) -> str:
    """Ring an agent's client (or a number); every leg reports to our status webhook.
    ``record``: the call is recorded once answered (telephony/twilio/recording_status.py).

    ``hints`` go into both the leg's status callback and the Dial action, so each of
    them can tell which agent, queue and transfer the leg was for. URLs are absolute
    under ``base_url`` for TwiML sent through the REST API; with ``base_url=""`` they
    are relative, for TwiML that answers a webhook. ``parameters`` go to the client as
    ``<Parameter>``s: the Voice SDK hands them to the console as the incoming call's
    ``customParameters``.
    """
    status_url = base_url.rstrip("/") + webhook_path("status", hints)
    action_url = base_url.rstrip("/") + webhook_path("dial-result", hints)
    attributes: dict[str, object] = {"action": action_url, "method": "POST", "timeout": timeout}
    if caller_id:
        attributes["caller_id"] = caller_id
    if record:
        attributes.update(dial_recording(base_url, hints))
    verb = Dial(**attributes)
    callback = {
        "status_callback": status_url,
        "status_callback_event": " ".join(STATUS_EVENTS),
        "status_callback_method": "POST",
    }
    if client:
        # With <Parameter>s beside it, the identity must be an <Identity> noun, not text.
        noun = verb.client(**callback)
        noun.identity(client.removeprefix(CLIENT_PREFIX))
        for name, value in (parameters or {}).items():
            noun.parameter(name=name, value=value)
    else:
        verb.number(number, **callback)
    response = VoiceResponse()
    response.append(verb)
    return str(response)


# Twilio rings at most ten nouns of one <Dial> at once.
MAX_SIMULTANEOUS = 10


def dial_clients(
    *,
    base_url: str,
    clients: Sequence[str],
    queue: str,
    timeout: int,
    parameters: Mapping[str, str],
    record: bool = False,
) -> str:
    """Ring several agents' clients at once (a ring-all queue): Twilio connects the first
    to answer and hangs up the others itself. Each client's leg reports with its own
    agent in the status URL; the Dial action names only the queue (the webhook finds
    who answered from the answered leg). ``record``: as ``dial``'s (the recording's
    callback names no agent: which one answers is not known yet)."""
    if not 0 < len(clients) <= MAX_SIMULTANEOUS:
        raise ValueError(f"A <Dial> rings 1 to {MAX_SIMULTANEOUS} clients, not {len(clients)}.")
    root = base_url.rstrip("/")
    attributes: dict[str, object] = {
        "action": root + webhook_path("dial-result", Hints(queue=queue)),
        "method": "POST",
        "timeout": timeout,
    }
    if record:
        attributes.update(dial_recording(base_url, Hints(queue=queue)))
    verb = Dial(**attributes)
    for client in clients:
        noun = verb.client(
            status_callback=root + webhook_path("status", Hints(agent=client, queue=queue)),
            status_callback_event=" ".join(STATUS_EVENTS),
            status_callback_method="POST",
        )
        noun.identity(client.removeprefix(CLIENT_PREFIX))
        for name, value in parameters.items():
            noun.parameter(name=name, value=value)
    response = VoiceResponse()
    response.append(verb)
    return str(response)


def redirect(url: str) -> str:
    """Go on with the TwiML at ``url`` (a caller taken out of a queue: exits)."""
    response = VoiceResponse()
    response.redirect(url, method="POST")
    return str(response)


def dial_customer(
    *,
    base_url: str,
    number: str,
    caller_id: str,
    hints: Hints,
    timeout: int = 30,
    record: bool = False,
) -> str:
    """Dial the customer for a call an agent placed from the browser (the client webhook);
    ``record``: recorded once the customer answers.

    Absolute URLs (``base_url``: the URL Twilio called, less its path): Twilio documents
    relative URLs for ``action``, but asks a fully qualified one for status callbacks.
    """
    return dial(
        base_url=base_url,
        number=number,
        hints=hints,
        timeout=timeout,
        caller_id=caller_id,
        record=record,
    )


def conference(*, room: str, label: str, action: str = "") -> str:
    """Join the conference ``room`` (a routed call moved there for a supervisor:
    telephony/twilio/moving.py), labelled ``label``. It starts as the first one enters
    and ends as either party leaves, as the <Dial> it replaces did; nobody hears a beep
    or waits with music. ``action``: the Dial action once the conference is over for
    this call (the caller's; the agent's leg has none and ends with it)."""
    attributes: dict[str, object] = {"action": action, "method": "POST"} if action else {}
    verb = Dial(**attributes)
    verb.conference(
        room,
        participant_label=label,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        wait_url="",
    )
    response = VoiceResponse()
    response.append(verb)
    return str(response)
