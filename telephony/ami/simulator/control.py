"""Simulator-only AMI actions: drive the model PBX from another process.

Asterisk has no such actions. They exist only when ``SimulatorConfig.control`` is set
(``manage.py ami_simulator --control``); otherwise the simulator answers them as
Asterisk does ("Invalid/unknown command"). End-to-end tests use them to place a call
at the moment they choose, from outside the simulator's process.

``Action: SimulatorInboundCall`` places one inbound queue call (scenarios.InboundPlan):

| field | meaning | default |
|---|---|---|
| ``CallerID`` | ``"Name" <+15557654321>`` or a bare number (required) | |
| ``Queue`` | the queue it joins | ``support`` |
| ``Agents`` | extensions rung first, in order, comma-separated | the queue picks |
| ``AnswerAfter`` | seconds the agent phone rings before it answers | 6 |
| ``Talk`` | seconds of talk before the caller hangs up | 120 |
| ``Patience`` | seconds the caller waits unanswered before abandoning | 600 |
| ``CallbackAfter`` | seconds unanswered before the caller presses 1 to be called back | never |

``Action: SimulatorVoicemailCall`` places a caller nobody answers, who leaves a message at
the queue's voicemail exit (voicemail.py): ``CallerID``, ``Queue``, ``Wait`` (seconds in
the queue, 2), ``Message`` (seconds of message, 3).

Times are simulated seconds (``--speed``). The response comes at once; the call's
events follow as the model plays it.
"""

from __future__ import annotations

import math

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.call_actions import parse_caller_id
from telephony.ami.simulator.clock import Agenda
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from telephony.ami.simulator.session import response
from telephony.ami.simulator.voicemail import VoicemailPlan, voicemail_call

Reply = list[AmiMessage]

INBOUND_CALL = "simulatorinboundcall"
VOICEMAIL_CALL = "simulatorvoicemailcall"


class ControlError(ValueError):
    """An action field the simulator cannot use; its text is the Error response's."""


def _seconds(action: AmiMessage, name: str, default: float) -> float:
    raw = action.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ControlError(f"'{name}' must be a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ControlError(f"'{name}' must be a number of seconds >= 0")
    return value


def inbound_plan(pbx: PbxModel, action: AmiMessage) -> InboundPlan:
    """The plan an ``Action: SimulatorInboundCall`` asks for; ControlError if unusable."""
    number, name = parse_caller_id(action.get("CallerID"))
    if not number:
        raise ControlError("'CallerID' must hold the caller's number")
    queue = (action.get("Queue") or "support").strip()
    if queue not in pbx.queues:
        raise ControlError(f"No such queue: {queue}")
    agents = tuple(a.strip() for a in (action.get("Agents") or "").split(",") if a.strip())
    for agent in agents:
        if pbx.directory.phone(agent) is None:
            raise ControlError(f"No such agent phone: {agent}")
    asks_callback = bool((action.get("CallbackAfter") or "").strip())
    return InboundPlan(
        caller_num=number,
        caller_name=name,
        queue=queue,
        agents=agents,
        answer_after=_seconds(action, "AnswerAfter", 6.0),
        talk=_seconds(action, "Talk", 120.0),
        patience=_seconds(action, "Patience", 600.0),
        callback_after=_seconds(action, "CallbackAfter", 0.0) if asks_callback else None,
    )


def voicemail_plan(pbx: PbxModel, action: AmiMessage) -> VoicemailPlan:
    """The plan an ``Action: SimulatorVoicemailCall`` asks for (``CallerID``, ``Queue``,
    ``Wait``: seconds in the queue before its timeout, ``Message``: seconds of message);
    ControlError if unusable."""
    number, name = parse_caller_id(action.get("CallerID"))
    if not number:
        raise ControlError("'CallerID' must hold the caller's number")
    queue = (action.get("Queue") or "support").strip()
    if queue not in pbx.queues:
        raise ControlError(f"No such queue: {queue}")
    return VoicemailPlan(
        caller_num=number,
        caller_name=name,
        queue=queue,
        wait=_seconds(action, "Wait", 2.0),
        message=_seconds(action, "Message", 3.0),
    )


class ControlActions:
    def __init__(self, pbx: PbxModel, agenda: Agenda) -> None:
        self.pbx = pbx
        self.agenda = agenda

    async def inbound_call(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        try:
            plan = inbound_plan(self.pbx, action)
        except ControlError as exc:
            return [response(action_id, "Error", ("Message", str(exc)))]
        self.agenda.spawn(inbound_call(self.pbx, plan), name="control-inbound")
        return [response(action_id, "Success", ("Message", "Inbound call placed"))]

    async def voicemail_call(self, action: AmiMessage) -> Reply:
        """A caller nobody answers, who leaves a message (voicemail.py)."""
        try:
            plan = voicemail_plan(self.pbx, action)
        except ControlError as exc:
            return [response(action.action_id, "Error", ("Message", str(exc)))]
        self.agenda.spawn(voicemail_call(self.pbx, plan), name="control-voicemail")
        return [response(action.action_id, "Success", ("Message", "Voicemail call placed"))]
