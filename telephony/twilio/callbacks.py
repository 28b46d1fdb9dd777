"""Our webhook URLs, and what we write into their query strings for later.

Twilio's callbacks do not say which agent or queue a leg was for, nor that a leg is a
transfer; so the TwiML and REST calls that create a leg put that in the callback URL
(``?agent=client:1001&queue=support``), and the webhook reads it back as ``Hints``.
The query string is part of the signed URL, so a hint is as trustworthy as the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from telephony.twilio.params import InvalidCallback

CLIENT_PREFIX = "client:"
# The events we ask for on every leg we create; "answered" arrives as "in-progress".
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
_MAX_HINT = 128


@dataclass(frozen=True, kw_only=True, slots=True)
class Hints:
    agent: str = ""  # "client:<identity>": the agent a leg rings, or who placed the call
    queue: str = ""  # pbx_queue_name the call was (or goes back) in
    transfer: str = ""  # our transfer key, on the legs and Dial of a transfer
    from_agent: str = ""  # "client:<identity>" of the agent who transferred
    # "client:<identity>" of the agent whose browser placed the call: the leg this
    # names is the customer, dialled for them (our client webhook's <Dial>).
    by: str = ""
    # Our Callback's id, on the call placed for it (telephony/twilio/routing/).
    callback: str = ""
    # The conference a routed call was moved into for a supervisor (telephony/twilio/
    # moving.py): on the caller's <Dial><Conference>, whose end is the agent's part's end.
    room: str = ""
    # The customer's CallSid of a call a supervisor monitors, on their participant's
    # status callback (telephony/twilio/monitor_status.py).
    monitored: str = ""


def agent_name(identity: str) -> str:
    """The name an agent goes by in telephony events: their client identity, prefixed."""
    return identity if identity.startswith(CLIENT_PREFIX) else CLIENT_PREFIX + identity


def parse_hints(query: Mapping[str, str]) -> Hints:
    values = {}
    for key in ("agent", "queue", "transfer", "from", "by", "callback", "room", "monitored"):
        value = (query.get(key) or "").strip()
        if len(value) > _MAX_HINT or any(ord(c) < 32 for c in value):
            raise InvalidCallback(f"Query parameter {key} is not a plausible value.")
        values[key] = value
    return Hints(
        agent=values["agent"],
        queue=values["queue"],
        transfer=values["transfer"],
        from_agent=values["from"],
        by=values["by"],
        callback=values["callback"],
        room=values["room"],
        monitored=values["monitored"],
    )


def webhook_path(name: str, hints: Hints | None = None) -> str:
    """Path (and query) of one of our webhooks; relative TwiML URLs resolve against the
    URL Twilio is already calling, so they need no knowledge of the public host."""
    path = reverse(f"twilio:{name}")
    if hints is None:
        return path
    query = {
        key: value
        for key, value in (
            ("agent", hints.agent),
            ("queue", hints.queue),
            ("transfer", hints.transfer),
            ("from", hints.from_agent),
            ("by", hints.by),
            ("callback", hints.callback),
            ("room", hints.room),
            ("monitored", hints.monitored),
        )
        if value
    }
    return f"{path}?{urlencode(query)}" if query else path


def webhook_url(base_url: str, name: str, hints: Hints | None = None) -> str:
    """Absolute URL of a webhook, for REST calls (which have no request to be relative to)."""
    return base_url.rstrip("/") + webhook_path(name, hints)
