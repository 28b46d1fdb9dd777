"""Listening, whispering and barging on Twilio: a supervisor's client joins the call's
conference as a participant (Twilio's Conference Participants API).

| mode    | participant                                 | who hears the supervisor |
|---------|---------------------------------------------|--------------------------|
| listen  | ``Muted=true``, ``Coaching=false``          | nobody                   |
| whisper | ``Coaching=true``, ``CallSidToCoach=<agent>`` | the agent only         |
| barge   | ``Muted=false``, ``Coaching=false``         | the agent and the caller |

As Twilio documents it: a coach's audio is not in the conference's
recording; a participant with ``Coaching=false`` is heard by everyone.

A call our routing connected with ``<Dial><Client>`` is moved into a conference of its
own first (telephony/twilio/moving.py), and monitored there (``conference_named``).
Another call must already be in a conference (``NOT_IN_CONFERENCE`` otherwise), found by
asking Twilio which in-progress conference has the customer's CallSid as a participant
(``conference_with``); the agent is the one other participant that is not a coach nor one
of our monitors. ``monitor`` and ``monitor_stop`` take either finder. The
supervisor's participant is labelled ``cc-monitor:<identity>``, so a second request
switches the mode of the same monitoring call (no new ring) and a stop removes it, by
label.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient

from telephony.models import TwilioAccount
from telephony.twilio.actions import ActionResult, _client, _run

LABEL_PREFIX = "cc-monitor:"
MODES: dict[str, dict[str, bool]] = {
    "listen": {"muted": True, "coaching": False},
    "whisper": {"muted": False, "coaching": True},
    "barge": {"muted": False, "coaching": False},
}
# In-progress conferences looked through for the call: an account with more than this
# many at once cannot have its calls monitored (the request would be too slow).
MAX_CONFERENCES = 200
SWITCHED = "switched"  # the message of a result that switched a live session's mode
NOT_IN_CONFERENCE = (
    "This call is not in a conference: on Twilio only calls connected through a "
    "<Conference> can be listened to (docs/supervisor.md#twilio)."
)
# A routed call moved into its room for a supervisor (telephony/twilio/moving.py): how
# long the agent's leg may take to be in it, and how often to look.
ROOM_WAIT_SECONDS = 5.0
ROOM_POLL_SECONDS = 0.25
ROOM_NOT_READY = "Twilio has not put the agent's leg in the call's conference yet: try again."


@dataclass(frozen=True)
class Placement:
    """Where the call is: its conference, the agent's participant, the participants."""

    conference_sid: str
    agent_call_sid: str
    labels: frozenset[str]


# How a command finds the call's conference, asked of a Twilio client: a placement, or
# why there is none (conference_with, conference_named).
Finder = Callable[[Any], Placement | ActionResult]


def label_for(identity: str) -> str:
    return LABEL_PREFIX + identity.removeprefix("client:")


def _listed(read: Callable[[], list[Any]]) -> list[Any] | ActionResult:
    """A list read; Twilio's refusal of it as an answer. (twilio-python raises a plain
    TwilioException with the response for a list, not the TwilioRestException of the
    other requests.)"""
    try:
        return read()
    except TwilioRestException:
        raise
    except TwilioException as exc:
        response: Any = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        if status is None:
            raise
        try:
            body = json.loads(response.text)
        except (TypeError, ValueError):
            body = {}
        message = str(body.get("message") or f"HTTP {status}")
        return ActionResult(ok=False, message=f"Twilio refused: {message}", code=body.get("code"))


def _placement(client: Any, call_sid: str) -> Placement | ActionResult:
    conferences = _listed(
        lambda: client.conferences.list(status="in-progress", limit=MAX_CONFERENCES)
    )
    if isinstance(conferences, ActionResult):
        return conferences
    for conference in conferences:
        participants = _listed(client.conferences(conference.sid).participants.list)
        if isinstance(participants, ActionResult):
            return participants
        if not any(p.call_sid == call_sid for p in participants):
            continue
        others = [
            p
            for p in participants
            if p.call_sid != call_sid
            and not p.coaching
            and not str(p.label or "").startswith(LABEL_PREFIX)
        ]
        if len(others) != 1:
            return ActionResult(
                ok=False,
                message="The call's conference has no single agent to monitor "
                f"({len(others)} other participants).",
            )
        labels = frozenset(str(p.label) for p in participants if p.label)
        return Placement(str(conference.sid), str(others[0].call_sid), labels)
    return ActionResult(ok=False, message=NOT_IN_CONFERENCE)


def _join_or_switch(
    client: Any,
    found: Placement,
    *,
    supervisor: str,
    mode: str,
    caller_id: str,
    status_callback: str = "",
) -> ActionResult:
    """Ring the supervisor's client into the conference in ``mode``; already in it
    (their label): switch that participant's mode instead."""
    label = label_for(supervisor)
    settings: dict[str, Any] = dict(MODES[mode])
    if settings["coaching"]:
        settings["call_sid_to_coach"] = found.agent_call_sid
    participants = client.conferences(found.conference_sid).participants
    if label in found.labels:
        switched = participants(label).update(**settings)
        return ActionResult(ok=True, call_sid=str(switched.call_sid), message=SWITCHED)
    joined = participants.create(
        from_=caller_id or "client:contact-center",
        to=f"client:{supervisor.removeprefix('client:')}",
        label=label,
        beep="false",  # nobody on the call is told
        end_conference_on_exit=False,
        **settings,
        **_status(status_callback),
    )
    return ActionResult(ok=True, call_sid=str(joined.call_sid))


def _status(url: str) -> dict[str, Any]:
    """The participant's call leg reports its end to ``url`` (Twilio's Participants API:
    ``StatusCallback`` with ``StatusCallbackEvent=completed``): the supervisor hung up."""
    if not url:
        return {}
    return {"status_callback": url, "status_callback_event": ["completed"]}


def _leave(client: Any, found: Placement, supervisor: str) -> ActionResult:
    label = label_for(supervisor)
    if label not in found.labels:
        return ActionResult(ok=False, message="No monitoring call of yours is live.")
    participant = client.conferences(found.conference_sid).participants(label)
    session = str(participant.fetch().call_sid)
    participant.delete()
    return ActionResult(ok=True, call_sid=session)


def _in_room(client: Any, room: str, agent_leg: str, wait: float) -> Placement | ActionResult:
    """The in-progress conference named ``room`` once the agent's leg is in it (Twilio
    puts a redirected leg there a moment after it answers the redirect), looked for
    again until ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        conferences = _listed(
            lambda: client.conferences.list(friendly_name=room, status="in-progress", limit=1)
        )
        if isinstance(conferences, ActionResult):
            return conferences
        for conference in conferences:
            participants = _listed(client.conferences(conference.sid).participants.list)
            if isinstance(participants, ActionResult):
                return participants
            if any(p.call_sid == agent_leg for p in participants):
                labels = frozenset(str(p.label) for p in participants if p.label)
                return Placement(str(conference.sid), agent_leg, labels)
        if time.monotonic() >= deadline:
            return ActionResult(ok=False, message=ROOM_NOT_READY)
        time.sleep(ROOM_POLL_SECONDS)


def conference_with(call_sid: str) -> Finder:
    """The in-progress conference that has the customer's ``call_sid`` as a participant;
    the agent is the one other participant that is not a coach nor one of our monitors."""
    return lambda client: _placement(client, call_sid)


def conference_named(room: str, agent_leg: str, *, wait: float = ROOM_WAIT_SECONDS) -> Finder:
    """The conference ``room`` a routed call was moved into (telephony/twilio/moving.py),
    once the agent's leg ``agent_leg`` is in it, looked for until ``wait`` seconds have
    passed."""
    return lambda client: _in_room(client, room, agent_leg, wait)


def monitor(
    account: TwilioAccount,
    *,
    where: Finder,
    supervisor: str,
    mode: str,
    caller_id: str = "",
    status_callback: str = "",
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Ring the ``supervisor``'s client (identity) into the call's conference (``where``)
    in ``mode``; already in it (their label): switch its mode instead. ``call_sid`` of
    the result is the supervisor's participant (the session)."""
    if mode not in MODES:
        return ActionResult(ok=False, message=f"Unknown mode {mode!r}.")

    def command() -> ActionResult:
        client = _client(account, http_client)
        found = where(client)
        if isinstance(found, ActionResult):
            return found
        return _join_or_switch(
            client,
            found,
            supervisor=supervisor,
            mode=mode,
            caller_id=caller_id,
            status_callback=status_callback,
        )

    return _run(f"monitor ({mode})", account, command)


def monitor_stop(
    account: TwilioAccount,
    *,
    where: Finder,
    supervisor: str,
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Take the ``supervisor``'s monitoring participant out of the call's conference
    (``where``): the caller and the agent stay."""

    def command() -> ActionResult:
        client = _client(account, http_client)
        found = where(client)
        if isinstance(found, ActionResult):
            return found
        return _leave(client, found, supervisor)

    return _run("monitor_stop", account, command)
