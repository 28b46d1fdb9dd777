"""Click-to-call: Originate rings the agent phone, then dials the customer (fixture 06).

The agent leg is the call's first channel, so its Uniqueid is the call's Linkedid.
Dial events of the agent leg have **Dest fields only** (dial.c has no caller), and
a timeout hangs the leg up with Cause 19 and **no DialEnd**.
"""

from __future__ import annotations

from dataclasses import dataclass

from telephony.ami.simulator.calls import Attempt, Call, track
from telephony.ami.simulator.channels import Channel, ChannelState
from telephony.ami.simulator.pbx import PbxModel

# OriginateResponse Reason: ast_control_frame_type of the outcome.
REASON_FAILURE = 0
REASON_HANGUP = 1
REASON_NO_ANSWER = 3
REASON_ANSWERED = 4
REASON_BUSY = 5


@dataclass(frozen=True)
class OriginateRequest:
    """What an ``Action: Originate`` asked for (Channel PJSIP/<endpoint>, then an exten)."""

    endpoint: str
    context: str
    exten: str
    priority: int
    caller_num: str
    caller_name: str
    timeout_ms: int = 30_000
    action_id: str | None = None
    channel_id: str | None = None
    # OriginateResponse exists only for Async originates (manager.c fast_originate).
    send_response: bool = True

    @property
    def channel(self) -> str:
        return f"PJSIP/{self.endpoint}"


def originated_channel(pbx: PbxModel, request: OriginateRequest) -> Channel:
    """The channel an Originate creates towards the phone: Newchannel (Down)."""
    phone = pbx.directory.phone(request.endpoint)
    name = phone.name if phone else request.endpoint
    return pbx.new_channel(
        request.endpoint,
        state=ChannelState.DOWN,
        caller=(request.endpoint, name),
        context=phone.context if phone else "from-internal",
        exten="s",
        uniqueid=request.channel_id,
    )


def originate_start(pbx: PbxModel, request: OriginateRequest) -> Call:
    """The originated leg: Newchannel (Down), the given CallerID, DialBegin (Dest only)."""
    leg = originated_channel(pbx, request)
    call = Call(caller=leg, direction="outbound")
    track(pbx, call, leg)
    if request.caller_num or request.caller_name:
        pbx.set_callerid(leg, request.caller_num, request.caller_name)
        pbx.set_connected(leg, request.caller_num, request.caller_name)
    pbx.dial_begin(None, leg, request.endpoint)
    call.attempts.append(Attempt(leg=leg, member=None, started_usec=pbx.clock.now()))
    return call


def originate_alert(pbx: PbxModel, call: Call) -> None:
    pbx.set_state(call.caller, ChannelState.RINGING)
    pbx.dial_state(None, call.caller, "RINGING")


def originate_response(
    pbx: PbxModel, request: OriginateRequest, leg: Channel | None, reason: int
) -> None:
    if not request.send_response:
        return
    success = reason == REASON_ANSWERED and leg is not None
    fields = [("ActionID", request.action_id)] if request.action_id is not None else []
    fields += [
        ("Response", "Success" if success else "Failure"),
        ("Channel", leg.name if success and leg else request.channel),
        ("Context", request.context),
        ("Exten", request.exten),
        ("Reason", str(reason)),
        ("Uniqueid", leg.uniqueid if success and leg else request.channel_id or "<unknown>"),
        ("CallerIDNum", request.caller_num or "<unknown>"),
        ("CallerIDName", request.caller_name or "<unknown>"),
    ]
    pbx.emit("OriginateResponse", "call", fields)


def originate_no_answer(pbx: PbxModel, call: Call, request: OriginateRequest) -> None:
    """The dial timed out: Hangup Cause 19, no DialEnd, OriginateResponse Failure/3."""
    call.attempts.clear()
    call.ended = True
    pbx.hangup(call.caller, 19)
    originate_response(pbx, request, None, REASON_NO_ANSWER)


def originate_answer(pbx: PbxModel, call: Call, request: OriginateRequest) -> None:
    """The agent answers: DialEnd ANSWER (Dest only), then the leg runs the dialplan."""
    leg = call.caller
    call.attempts.clear()
    pbx.set_state(leg, ChannelState.UP)
    pbx.dial_end(None, leg, "ANSWER")
    pbx.flush_devices()
    originate_response(pbx, request, leg, REASON_ANSWERED)
    leg.context, leg.exten, leg.priority = request.context, request.exten, request.priority
    call.answered_usec = 0


def dial_customer(pbx: PbxModel, call: Call, number: str) -> Attempt:
    """``_+X.``: set the company caller ID and Dial(PJSIP/${EXTEN}@trunk,60)."""
    directory = pbx.directory
    agent = call.caller
    agent.priority = 2
    pbx.set_callerid(agent, directory.did, directory.company_name)
    pbx.newexten(agent, "Dial", f"PJSIP/{number}@{directory.trunk},60", 2)
    trunk = pbx.new_channel(
        directory.trunk,
        state=ChannelState.DOWN,
        caller=("", ""),
        context=directory.trunk_context,
        exten="s",
        linkedid=agent.linkedid,
    )
    track(pbx, call, trunk)
    trunk.exten = number
    trunk.connected_num, trunk.connected_name = directory.did, directory.company_name
    pbx.set_callerid(trunk, number, agent.connected_name)
    pbx.set_connected(trunk, directory.did, directory.company_name)
    pbx.dial_begin(agent, trunk, f"{number}@{directory.trunk}")
    attempt = Attempt(leg=trunk, member=None, started_usec=pbx.clock.now())
    call.attempts.append(attempt)
    call.last_app, call.last_data = "Dial", f"PJSIP/{number}@{directory.trunk},60"
    return attempt


def customer_alert(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    pbx.set_state(attempt.leg, ChannelState.RINGING)
    pbx.dial_state(call.caller, attempt.leg, "RINGING")


def customer_answer(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    agent, trunk = call.caller, attempt.leg
    pbx.set_state(trunk, ChannelState.UP)
    pbx.dial_end(agent, trunk, "ANSWER")
    call.attempts.remove(attempt)
    call.peer = trunk
    call.connected_usec = call.answered_usec = pbx.clock.now()
    bridge = pbx.bridge_create()
    pbx.bridge_enter(bridge, trunk)
    pbx.bridge_enter(bridge, agent)
    call.bridge = bridge


def customer_no_answer(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    """The customer never picks up: Dial gives up after its timeout."""
    pbx.dial_end(call.caller, attempt.leg, "NOANSWER")
    call.attempts.remove(attempt)
    pbx.hangup(attempt.leg, 19)
