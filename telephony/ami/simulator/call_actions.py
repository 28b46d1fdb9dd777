"""Call-control actions: Originate, Hangup, Redirect, BlindTransfer, Atxfer.

Each changes the model and emits the events Asterisk would; what happens after the
response (ringing, answering, talking) runs as a script on the agenda, timed by
:class:`OriginateBehaviour`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.calls import (
    Call,
    abandon,
    agent_complete,
    drop_attempt,
    finish,
    hangup_connected,
    queue_join,
    queue_leave,
)
from telephony.ami.simulator.channels import Channel
from telephony.ami.simulator.clock import Agenda, Script
from telephony.ami.simulator.originate import REASON_FAILURE, OriginateRequest, originate_response
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import (
    PICKUP,
    OutboundPlan,
    TransferPlan,
    attended_transfer_call,
    extension_call,
    outbound_call,
)
from telephony.ami.simulator.session import response
from telephony.ami.simulator.spy import SpyPlan, spy_call, spy_digit, spy_hangup
from telephony.ami.simulator.transfers import blind_transfer

# The sample dialplan's context whose extension <queue> enters that queue
# (deploy/asterisk/extensions.conf): where a supervisor's Redirect moves a waiting caller.
QUEUE_CONTEXT = "cc-queues"

Reply = list[AmiMessage]
_CALLER_ID = re.compile(r'^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$')


@dataclass(frozen=True)
class OriginateBehaviour:
    """How the simulated people react to calls placed by actions."""

    agent_answers: bool = True
    agent_ring: float = 2.0
    customer_answers: bool = True
    customer_ring: float = 5.0
    talk: float = 30.0
    consult: float = 5.0


def parse_caller_id(value: str | None) -> tuple[str, str]:
    """``"Name" <num>`` -> (num, name); a bare number or a bare name also works."""
    if not value:
        return "", ""
    match = _CALLER_ID.match(value)
    if match:
        return match.group(3).strip(), (match.group(1) or match.group(2) or "").strip()
    value = value.strip()
    if value.lstrip("+").isdigit():
        return value, ""
    return "", value


def _error(action_id: str | None, message: str) -> Reply:
    return [response(action_id, "Error", ("Message", message))]


def _success(action_id: str | None, message: str) -> Reply:
    return [response(action_id, "Success", ("Message", message))]


class CallActions:
    def __init__(self, pbx: PbxModel, agenda: Agenda, behaviour: OriginateBehaviour) -> None:
        self.pbx = pbx
        self.agenda = agenda
        self.behaviour = behaviour

    async def originate(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        channel = action.get("Channel") or ""
        if not channel:
            return _error(action_id, "Channel not specified")
        exten, context = action.get("Exten") or "", action.get("Context") or ""
        priority = action.get("Priority") or ""
        if (action.get("Application") or "").lower() == "chanspy" and not exten:
            return self._spy(action, channel)
        if not exten:
            # Application originates are not modelled: only dialplan targets are.
            return _error(action_id, "Originate failed")
        if not context or not priority.isdigit():
            return _error(action_id, "Originate with 'Exten' requires 'Context' and 'Priority'")
        tech, _, endpoint = channel.partition("/")
        num, name = parse_caller_id(action.get("CallerID"))
        timeout = action.get("Timeout") or "30000"
        is_async = (action.get("Async") or "").strip().lower() in {"true", "yes", "1", "on", "y"}
        request = OriginateRequest(
            endpoint=endpoint,
            context=context,
            exten=exten,
            priority=int(priority),
            caller_num=num,
            caller_name=name,
            timeout_ms=int(timeout) if timeout.isdigit() else 30_000,
            action_id=action_id,
            channel_id=action.get("ChannelId") or None,
            send_response=is_async,
        )
        if tech.upper() != "PJSIP" or self.pbx.directory.phone(endpoint) is None:
            # chan_pjsip has no such endpoint: the dial fails before any channel exists.
            if not is_async:
                return _error(action_id, "Originate failed")
            self.agenda.spawn(self._originate_failure(request), name="originate-failure")
            return _success(action_id, "Originate successfully queued")
        behaviour = self.behaviour
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def settle(answered: bool) -> None:
            if not outcome.done():
                outcome.set_result(answered)

        plan = OutboundPlan(
            request,
            agent_answers=behaviour.agent_answers,
            agent_ring=behaviour.agent_ring,
            customer_answers=behaviour.customer_answers,
            customer_ring=behaviour.customer_ring,
            talk=behaviour.talk,
            on_agent_outcome=settle,
        )
        self.agenda.spawn(outbound_call(self.pbx, plan), name="originate")
        if is_async:
            return _success(action_id, "Originate successfully queued")
        # A synchronous Originate answers only once the leg is up or has failed.
        if await outcome:
            return _success(action_id, "Originate successfully queued")
        return _error(action_id, "Originate failed")

    def _spy(self, action: AmiMessage, channel: str) -> Reply:
        """A supervisor's monitoring call (spy.py); only Async, as the bridge sends it."""
        action_id = action.action_id
        tech, _, endpoint = channel.partition("/")
        num, name = parse_caller_id(action.get("CallerID"))
        request = OriginateRequest(
            endpoint=endpoint,
            context="",
            exten="",
            priority=1,
            caller_num=num,
            caller_name=name,
            action_id=action_id,
            channel_id=action.get("ChannelId") or None,
        )
        if tech.upper() != "PJSIP" or self.pbx.directory.phone(endpoint) is None:
            self.agenda.spawn(self._originate_failure(request), name="spy-failure")
            return _success(action_id, "Originate successfully queued")
        plan = SpyPlan(request, action.get("Data") or "", ring=self.behaviour.agent_ring)
        self.agenda.spawn(spy_call(self.pbx, plan), name="spy")
        return _success(action_id, "Originate successfully queued")

    def _originate_failure(self, request: OriginateRequest) -> Script:
        yield 0.01
        originate_response(self.pbx, request, None, REASON_FAILURE)

    async def play_dtmf(self, action: AmiMessage) -> Reply:
        """``PlayDTMF``: sent to the phone, or with ``Receive`` read by the channel's
        application as if the phone had sent it (ChanSpy's mode keys: spy.py)."""
        action_id = action.action_id
        channel = self.pbx.channel(action.get("Channel") or "")
        if channel is None:
            return _error(action_id, "Channel not found")
        digit = (action.get("Digit") or "").strip()
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            return _error(action_id, "No digit specified")
        receive = (action.get("Receive") or "").strip().lower() in {"true", "yes", "1", "on"}
        if receive:
            spy_digit(self.pbx, channel, digit)
        return _success(action_id, "DTMF successfully queued")

    async def hangup(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        name = action.get("Channel") or ""
        if not name:
            return _error(action_id, "No channel specified")
        if len(name) > 2 and name.startswith("/") and name.endswith("/"):
            return self._hangup_matching(action_id, name[1:-1])
        channel = self.pbx.channel(name)
        if channel is None:
            return _error(action_id, "No such channel")
        self.teardown(channel)
        return _success(action_id, "Channel Hungup")

    def _hangup_matching(self, action_id: str | None, pattern: str) -> Reply:
        try:
            regex = re.compile(pattern)
        except re.error:
            return _error(action_id, "Invalid regex")
        names = [name for name in self.pbx.channels if regex.search(name)]
        items = []
        for name in names:
            channel = self.pbx.channel(name)
            if channel is not None and not channel.hungup:
                self.teardown(channel)
            fields = [("Event", "ChannelHungup"), ("Channel", name)]
            if action_id is not None:
                fields.insert(1, ("ActionID", action_id))
            items.append(AmiMessage(tuple(fields)))
        ack = response(
            action_id,
            "Success",
            ("EventList", "start"),
            ("Message", "Channels hung up will follow"),
        )
        done = [("Event", "ChannelsHungupListComplete")]
        if action_id is not None:
            done.append(("ActionID", action_id))
        done += [("EventList", "Complete"), ("ListItems", str(len(items)))]
        return [ack, *items, AmiMessage(tuple(done))]

    def teardown(self, channel: Channel) -> None:
        """A soft hangup of ``channel`` and what it does to its call."""
        pbx = self.pbx
        call = pbx.calls.get(channel.name)
        if call is None and channel.application == "ChanSpy":
            spy_hangup(pbx, channel)
            return
        if call is None or call.ended:
            pbx.soft_hangup_request(channel, 16)
            pbx.hangup(channel, 16)
            return
        attempt = next((a for a in call.attempts if a.leg is channel), None)
        if channel is call.caller:
            if call.queue is not None and call.queue.entry_for(channel) is not None:
                abandon(pbx, call)
            elif call.bridge is not None and call.peer is not None:
                hangup_connected(pbx, call, channel)
            else:
                pbx.soft_hangup_request(channel, 16)
                finish(pbx, call, [channel])
        elif attempt is not None:
            drop_attempt(pbx, call, attempt, ("CANCEL",))
        elif channel is call.peer:
            hangup_connected(pbx, call, channel)
        else:
            pbx.soft_hangup_request(channel, 16)
            pbx.hangup(channel, 16)

    async def redirect(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        name = action.get("Channel") or ""
        if not name:
            return _error(action_id, "Channel not specified")
        channel = self.pbx.channel(name)
        if channel is None:
            return _error(action_id, "No such channel")
        exten = action.get("Exten") or ""
        if not exten:
            return _error(action_id, "Redirect failed")
        context = action.get("Context") or channel.context
        call = self.pbx.calls.get(name)
        if call is None or call.ended or channel is not call.caller:
            # Only the customer leg is modelled moving; another leg just leaves its call.
            self.teardown(channel)
            return _success(action_id, "Redirect successful")
        queue = self.pbx.queues.get(exten) if context == QUEUE_CONTEXT else None
        if context == QUEUE_CONTEXT and (queue is None or call.queue is None):
            # Nothing in that context for it (or a caller no queue script drives).
            return _error(action_id, "Redirect failed")
        self._release_caller(call)
        call.caller.context, call.caller.exten, call.caller.priority = context, exten, 1
        if queue is not None:
            # extensions.conf's cc-queues: the caller joins that queue, and the script
            # that rang the first queue's members rings this one's (scenarios.py).
            queue_join(self.pbx, call, queue)
            return _success(action_id, "Redirect successful")
        self._continue_to(call, exten)
        return _success(action_id, "Redirect successful")

    def _release_caller(self, call: Call) -> None:
        """Take the caller out of its queue or bridge, as an async goto does."""
        pbx, caller = self.pbx, call.caller
        if call.queue is not None and call.queue.entry_for(caller) is not None:
            for attempt in list(call.attempts):
                drop_attempt(pbx, call, attempt, ("CANCEL", "CANCEL"))
            call.queue.abandoned += 1
            queue_leave(pbx, call)
            pbx.moh_stop(caller)
        elif call.bridge is not None and call.peer is not None:
            agent_complete(pbx, call, "transfer")
            peer, bridge = call.peer, call.bridge
            pbx.bridge_leave(bridge, caller)
            pbx.bridge_destroy(bridge)
            pbx.hangup(peer, 16)
            call.bridge = call.peer = None

    def _continue_to(self, call: Call, exten: str) -> None:
        b = self.behaviour
        script = extension_call(self.pbx, call, exten, b.agent_ring, b.talk, "caller")
        self.agenda.spawn(_after(PICKUP / 10, script), name="redirect")

    async def blind_transfer(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        found = self._bridged_agent(action)
        if isinstance(found, list):
            return found
        call, channel = found
        exten = action.get("Exten") or ""
        if not exten:
            return _error(action_id, "No extension specified")
        context = action.get("Context") or channel.context
        blind_transfer(self.pbx, call, channel, context, exten, external=True)
        self._continue_to(call, exten)
        return _success(action_id, "Transfer succeeded")

    async def atxfer(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        found = self._bridged_agent(action)
        if isinstance(found, list):
            return found
        call, channel = found
        exten = action.get("Exten") or ""
        if self.pbx.directory.phone(exten) is None:
            return _error(action_id, "No attended transfer feature code found")
        b = self.behaviour
        plan = TransferPlan(
            kind="attended", to=exten, after=0.0, ring=b.agent_ring, consult=b.consult, talk=b.talk
        )
        script = attended_transfer_call(self.pbx, call, channel, plan, external=False)
        self.agenda.spawn(_after(PICKUP / 10, script), name="atxfer")
        return _success(action_id, "Atxfer successfully queued")

    def _bridged_agent(self, action: AmiMessage) -> tuple[Call, Channel] | Reply:
        """The call whose agent-side leg ``Channel`` names, or the error to answer with."""
        action_id = action.action_id
        name = action.get("Channel") or ""
        if not name:
            return _error(action_id, "No channel specified")
        channel = self.pbx.channel(name)
        if channel is None:
            return _error(action_id, "Channel specified does not exist")
        call = self.pbx.calls.get(name)
        if call is None or call.ended or call.bridge is None or channel is not call.peer:
            return _error(action_id, "Transfer not permitted")
        return call, channel


def _after(delay: float, script: Script) -> Script:
    """Start ``script`` a moment later, so its events follow the action's own."""
    yield delay
    yield from script
