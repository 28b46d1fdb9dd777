"""The agent's phone, as Twilio's requests tell it: ``AgentMemberState`` facts.

On Asterisk the PBX reports each agent's device (ringing, in use, idle) and the agent's
state is derived from it (contactcenter/services/telephony/agents.py). Twilio reports
no device; what it reports of the legs that ring an agent's client, and of the calls an
agent places from the browser, says the same, and becomes the same facts, applied with
the call's other facts: ringing while a leg rings the agent, on a call from its answer
(or from the moment the browser places a call), idle once it is over.

A routed queue call's end is the routing's to report (telephony/twilio/routing/ringing.py:
it knows the queue's wrap-up time), not the Dial action's here.

The facts name no queue (a phone is not a queue member) and are stamped with Twilio's
``Timestamp`` when the request has one, else ``now``. Twilio's stamp is whole seconds:
the fact is placed at the end of its second (ringing, then answered, then over, within
it), but never later than its receipt, so a ring in the very second the agent became
available is not taken for an earlier one, and a callback Twilio retries later does not
undo what came after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from contactcenter import facts as te
from telephony.twilio.callbacks import CLIENT_PREFIX, Hints
from telephony.twilio.params import Callback

Device = Literal["ringing", "in_use", "idle"]
_RANK: dict[Device, int] = {"ringing": 0, "in_use": 1, "idle": 2}
_RING_OVER = {"busy", "no-answer", "failed", "canceled"}
_CALL_OVER = {"completed", "busy", "no-answer", "failed", "canceled"}


def _at(cb: Callback, device: Device, now: datetime) -> datetime:
    stamp = cb.timestamp
    if stamp is None:
        return now
    if stamp.microsecond == 0:
        stamp += timedelta(microseconds=999_997 + _RANK[device])
    return min(stamp, now)


def phone(agent: str, device: Device, at: datetime) -> te.AgentMemberState:
    return te.AgentMemberState(agent=agent, queue="", at=at, device=device)


def _leg_agent(cb: Callback, hints: Hints) -> str:
    return cb.to if cb.to.startswith(CLIENT_PREFIX) else hints.agent


def status(cb: Callback, hints: Hints, *, now: datetime) -> list[te.AgentMemberState]:
    """A status callback: a leg ringing an agent's client rings, is answered or is not;
    a call the agent placed from the browser, or we placed for them, is over."""
    if cb.is_child:
        agent = _leg_agent(cb, hints)
        if hints.by or not agent:  # the customer, dialled for a browser's call
            return []
        if cb.status == "ringing":
            return [phone(agent, "ringing", _at(cb, "ringing", now))]
        if cb.status == "in-progress":
            return [phone(agent, "in_use", _at(cb, "in_use", now))]
        if cb.status in _RING_OVER:
            return [phone(agent, "idle", _at(cb, "idle", now))]
        return []  # "completed": the Dial action's, which knows what comes next
    if cb.status not in _CALL_OVER:
        return []
    if cb.from_number.startswith(CLIENT_PREFIX):
        return [phone(cb.from_number, "idle", _at(cb, "idle", now))]
    if cb.direction == "outbound-api" and hints.agent:
        # A call we placed for the agent (a callback's): over, their leg is too.
        return [phone(hints.agent, "idle", _at(cb, "idle", now))]
    return []


def placed(agent: str, *, now: datetime) -> list[te.AgentMemberState]:
    """The agent's browser places a call (the TwiML app's Voice URL): on a call now."""
    return [phone(agent, "in_use", now)]


def dial_over(cb: Callback, hints: Hints, *, now: datetime) -> list[te.AgentMemberState]:
    """The Dial action: the agent of a browser's call, of a transfer or of a placed
    callback is off the phone. A routed queue call's agent is the routing's to free."""
    if hints.by:
        return [phone(hints.by, "idle", _at(cb, "idle", now))]
    if hints.agent and (hints.transfer or not hints.queue):
        return [phone(hints.agent, "idle", _at(cb, "idle", now))]
    return []
