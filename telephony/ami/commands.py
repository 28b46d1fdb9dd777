"""Commands from the consoles to the PBX, as AMI actions.

A command names the call by its key and the agent by their interface; the bridge
finds the channels in its live picture (the Translator's legs), so clients never deal
in channel names. Building an action validates the command: a bad one is refused
before anything is sent.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from telephony.ami.recording import customer_leg, mute_fields, recording_filename
from telephony.ami.tracker import Leg, Tracker


class CommandError(ValueError):
    """The command is malformed or cannot apply to the PBX's current state."""


@dataclass(frozen=True)
class PlannedAction:
    fields: dict[str, str]
    # Originate: the device it rings and the number it dials, for the Translator.
    originate: tuple[str, str] | None = None
    # A monitoring leg (ChanSpy): its Uniqueid and mode, for the Translator.
    spy: tuple[str, str] | None = None
    # A live monitoring leg switched to another mode (its Uniqueid, the new mode).
    spy_mode: tuple[str, str] | None = None


def _need(params: dict[str, Any], *names: str) -> list[str]:
    values = []
    for name in names:
        value = params.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CommandError(f"'{name}' is required.")
        values.append(value.strip())
    return values


def _agent_leg(state: Tracker, call_key: str, agent: str) -> Leg:
    key = state.resolve(call_key)
    track = state.calls.get(key)
    if track is None:
        raise CommandError("That call is not live on this PBX.")
    for uniqueid in track.legs:
        leg = state.legs.get(uniqueid)
        if leg is not None and leg.device == agent:
            return leg
    raise CommandError("That agent is not on that call.")


def _int(params: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError) as exc:
        raise CommandError(f"'{name}' must be a whole number.") from exc


def _flag(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    raise CommandError("'paused' must be true or false.")


# ChanSpy's options per mode: q quiet (no beep, no channel name read out), w whisper to
# the agent only, B barge (talk to both); d lets the supervisor switch from the phone's
# keypad (4 listen, 5 whisper, 6 barge); E ends the monitoring when the agent hangs up.
SPY_OPTIONS = {"listen": "qdE", "whisper": "qwdE", "barge": "qBdE"}

# ChanSpy's option d: the digit that switches a live session to each mode.
SPY_DIGITS = {"listen": "4", "whisper": "5", "barge": "6"}

# The SIP header that marks the INVITE of a supervisor's monitoring call, with the
# session's id (the monitoring leg's ChannelId).
MONITOR_HEADER = "X-CC-Monitor"

# The dialplan context whose extension <queue> enters that queue (a supervisor moving a
# waiting caller to another queue; deploy/asterisk/extensions.conf).
QUEUE_CONTEXT = "cc-queues"


def _monitor(params: dict[str, Any], state: Tracker) -> PlannedAction:
    """The supervisor's phone rung with ChanSpy on the agent's channel of the call."""
    call_key, agent, phone, mode = _need(params, "call", "agent", "phone", "mode")
    if mode not in SPY_OPTIONS:
        raise CommandError("'mode' is listen, whisper or barge.")
    leg = _agent_leg(state, call_key, agent)
    channel_id = f"{int(time.time())}.{secrets.randbelow(10**9):09d}"
    extension = agent.rpartition("/")[2]
    return PlannedAction(
        {
            "Action": "Originate",
            "Channel": phone,
            "Application": "ChanSpy",
            "Data": f"{leg.channel},{SPY_OPTIONS[mode]}",
            "CallerID": f'"{mode.capitalize()} {extension}" <{extension}>',
            "Timeout": str(_int(params, "timeout_ms", 30000)),
            "Async": "true",
            "ChannelId": channel_id,
            # Set on the supervisor's channel before it dials, so PJSIP puts it on the
            # INVITE: the browser softphone shows the ringing call as the monitoring call
            # (docs/supervisor.md#the-supervisors-browser-phone).
            "Variable": f"PJSIP_HEADER(add,{MONITOR_HEADER})={channel_id}",
        },
        spy=(channel_id, mode),
    )


def _monitor_mode(params: dict[str, Any], state: Tracker) -> PlannedAction:
    """The supervisor's live monitoring leg on the call switched to another mode within
    the same session: ChanSpy's option d reads 4/5/6 from the supervisor's channel, and
    PlayDTMF with Receive presses the key on that channel as if it came from the phone."""
    call_key, phone, mode = _need(params, "call", "phone", "mode")
    if mode not in SPY_DIGITS:
        raise CommandError("'mode' is listen, whisper or barge.")
    key = state.resolve(call_key)
    live = [
        (session, spy)
        for session, spy in state.spies.items()
        if spy.phone == phone
        and spy.channel
        and spy.started
        and not spy.stopped
        and state.resolve(spy.call_key) == key
    ]
    if not live:
        raise CommandError("No monitoring call of yours is live on that call.")
    session, spy = live[-1]
    return PlannedAction(
        {
            "Action": "PlayDTMF",
            "Channel": spy.channel,
            "Digit": SPY_DIGITS[mode],
            "Receive": "true",
        },
        spy_mode=(session, mode),
    )


def plan(command: str, params: dict[str, Any], state: Tracker, *, context: str) -> PlannedAction:
    """The AMI action for ``command``; raises CommandError if it cannot be made."""
    if command == "originate":
        agent, number = _need(params, "agent", "number")
        # Asterisk takes our Uniqueid (ChannelId), so the call's key is known up front.
        channel_id = f"{int(time.time())}.{secrets.randbelow(10**9):09d}"
        return PlannedAction(
            {
                "Action": "Originate",
                "Channel": agent,
                "Context": context,
                "Exten": number,
                "Priority": "1",
                "CallerID": f'"{number}" <{number}>',
                "Timeout": str(_int(params, "timeout_ms", 30000)),
                "Async": "true",
                "ChannelId": channel_id,
            },
            originate=(agent, number),
        )
    if command == "hangup":
        call_key, agent = _need(params, "call", "agent")
        leg = _agent_leg(state, call_key, agent)
        return PlannedAction({"Action": "Hangup", "Channel": leg.channel, "Cause": "16"})
    if command == "hangup_call":
        # A supervisor's: the whole call, whoever is on it. Its first leg (the caller's)
        # while live, else any live one: the others follow as the bridge ends.
        (call_key,) = _need(params, "call")
        track = state.calls.get(state.resolve(call_key))
        legs = [] if track is None else [track.first_leg, *sorted(track.legs)]
        live = [state.legs[uniqueid] for uniqueid in legs if uniqueid in state.legs]
        if not live:
            raise CommandError("That call is not live on this PBX.")
        return PlannedAction({"Action": "Hangup", "Channel": live[0].channel, "Cause": "16"})
    if command == "redirect":
        # A supervisor's: the caller's leg (the call's first) goes to ``exten`` of the
        # dialplan, out of its queue or bridge (Redirect is an async goto).
        call_key, exten = _need(params, "call", "exten")
        track = state.calls.get(state.resolve(call_key))
        caller = None if track is None else state.legs.get(track.first_leg)
        if caller is None:
            raise CommandError("That call is not live on this PBX.")
        return PlannedAction(
            {
                "Action": "Redirect",
                "Channel": caller.channel,
                "Context": str(params.get("context") or context),
                "Exten": exten,
                "Priority": "1",
            }
        )
    if command == "move_to_queue":
        # A supervisor's: the waiting caller's leg goes to the extension of QUEUE_CONTEXT
        # that enters ``queue`` (deploy/asterisk/extensions.conf), out of its own queue.
        call_key, queue = _need(params, "call", "queue")
        track = state.calls.get(state.resolve(call_key))
        caller = None if track is None else state.legs.get(track.first_leg)
        if caller is None:
            raise CommandError("That call is not live on this PBX.")
        return PlannedAction(
            {
                "Action": "Redirect",
                "Channel": caller.channel,
                "Context": QUEUE_CONTEXT,
                "Exten": queue,
                "Priority": "1",
            }
        )
    if command == "monitor":
        return _monitor(params, state)
    if command == "monitor_mode":
        return _monitor_mode(params, state)
    if command == "monitor_stop":
        (phone,) = _need(params, "phone")
        spying = [s.channel for s in state.spies.values() if s.phone == phone and s.channel]
        if not spying:
            raise CommandError("No monitoring call of yours is live.")
        return PlannedAction({"Action": "Hangup", "Channel": spying[-1], "Cause": "16"})
    if command == "recording_pause":
        call_key, agent, paused = _need(params, "call", "agent", "paused")
        if paused not in ("true", "false"):
            raise CommandError("'paused' must be true or false.")
        fields = mute_fields(state, _agent_leg(state, call_key, agent).call_key, paused == "true")
        if fields is None:
            raise CommandError("That call has no customer leg to record.")
        return PlannedAction(fields)
    if command == "recording_start":
        call_key, agent, organization = _need(params, "call", "agent", "organization")
        customer = customer_leg(state, _agent_leg(state, call_key, agent).call_key)
        if customer is None or not organization.isdigit():
            raise CommandError("That call has no customer leg to record.")
        file = recording_filename(int(organization), customer)
        return PlannedAction({"Action": "MixMonitor", "Channel": customer.channel, "File": file})
    if command in ("blind_transfer", "attended_transfer"):
        call_key, agent, target = _need(params, "call", "agent", "target")
        leg = _agent_leg(state, call_key, agent)
        action = "BlindTransfer" if command == "blind_transfer" else "Atxfer"
        return PlannedAction(
            {
                "Action": action,
                "Channel": leg.channel,
                "Exten": target,
                "Context": str(params.get("context") or context),
            }
        )
    if command == "queue_pause":
        (agent,) = _need(params, "agent")
        fields = {"Action": "QueuePause", "Interface": agent, "Paused": _flag(params.get("paused"))}
        if params.get("queue"):
            fields["Queue"] = str(params["queue"])
        if params.get("reason"):
            fields["Reason"] = str(params["reason"])
        return PlannedAction(fields)
    if command == "queue_add":
        agent, queue = _need(params, "agent", "queue")
        return PlannedAction(
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": agent,
                "StateInterface": agent,
                "MemberName": str(params.get("member_name") or agent),
                "Penalty": str(_int(params, "penalty", 0)),
                "Paused": _flag(bool(params.get("paused", False))),
            }
        )
    if command == "queue_remove":
        agent, queue = _need(params, "agent", "queue")
        return PlannedAction({"Action": "QueueRemove", "Queue": queue, "Interface": agent})
    if command == "hold":
        # Asterisk has no AMI action to hold a PJSIP call: the phone holds (re-INVITE).
        raise CommandError("Hold is done from the phone on Asterisk.")
    raise CommandError(f"Unknown command {command!r}.")
