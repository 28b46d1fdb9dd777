"""Hold, direct dials, and blind and attended transfers of a connected call.

Orders follow transcript 03 (blind transfer by REFER) and docs/ami.md §6.5 (attended
transfer by REFER/Replaces: the target is swapped into the queue bridge, so its
Linkedid becomes the customer's).
"""

from __future__ import annotations

from dataclasses import dataclass

from telephony.ami.simulator.calls import Attempt, Call, agent_complete, connect, track
from telephony.ami.simulator.channels import Bridge, Channel, ChannelState
from telephony.ami.simulator.pbx import PbxModel


def hold(pbx: PbxModel, call: Call, holder: Channel) -> None:
    if call.holder is None:
        pbx.hold(holder)
        call.holder = holder


def unhold(pbx: PbxModel, call: Call) -> None:
    if call.holder is not None:
        pbx.unhold(call.holder)
        call.holder = None


def dial_extension(pbx: PbxModel, call: Call, origin: Channel, number: str) -> Attempt | None:
    """app_dial from ``origin`` to an agent phone: the leg inherits ``origin``'s Linkedid."""
    phone = pbx.directory.phone(number)
    if phone is None:
        return None
    pbx.newexten(origin, "Dial", f"PJSIP/{number},30", origin.priority)
    leg = pbx.new_channel(
        number,
        state=ChannelState.DOWN,
        caller=(phone.number, phone.name),
        context=phone.context,
        exten="s",
        linkedid=origin.linkedid,
    )
    track(pbx, call, leg)
    leg.exten = number
    pbx.set_connected(leg, origin.caller_num, origin.caller_name)
    pbx.dial_begin(origin, leg, number)
    attempt = Attempt(leg=leg, member=None, started_usec=pbx.clock.now())
    call.attempts.append(attempt)
    return attempt


def alert_extension(pbx: PbxModel, origin: Channel, attempt: Attempt) -> None:
    pbx.set_state(attempt.leg, ChannelState.RINGING)
    pbx.dial_state(origin, attempt.leg, "RINGING")


def answer_extension(pbx: PbxModel, call: Call, origin: Channel, attempt: Attempt) -> Bridge:
    """The dialed phone answers; app_dial blanks the callee's Exten; they are bridged."""
    leg = attempt.leg
    pbx.set_state(leg, ChannelState.UP)
    if origin.state != ChannelState.UP:
        pbx.set_state(origin, ChannelState.UP)
    pbx.set_connected(origin, leg.caller_num, leg.caller_name)
    pbx.dial_end(origin, leg, "ANSWER")
    leg.exten = ""
    if attempt in call.attempts:
        call.attempts.remove(attempt)
    if origin is call.caller:
        call.peer = leg
        call.connected_usec = pbx.clock.now()
        connect(pbx, call, leg, origin)
        assert call.bridge is not None
        return call.bridge
    bridge = pbx.bridge_create()
    pbx.bridge_enter(bridge, leg)
    pbx.bridge_enter(bridge, origin)
    return bridge


def blind_transfer(
    pbx: PbxModel, call: Call, transferer: Channel, context: str, exten: str, *, external: bool
) -> None:
    """The transferer sends the caller to ``exten``; the caller leaves the bridge.

    Afterwards the caller runs ``context,exten,1``: the caller of :func:`dial_extension`.
    """
    caller, bridge = call.caller, call.bridge
    assert bridge is not None
    if call.holder is not None:
        unhold(pbx, call)
    pbx.emit(
        "BlindTransfer",
        "call",
        [
            ("Result", "Success"),
            *transferer.block("Transferer"),
            *caller.block("Transferee"),
            *bridge.block(),
            ("IsExternal", "Yes" if external else "No"),
            ("Context", context),
            ("Extension", exten),
        ],
    )
    agent_complete(pbx, call, "transfer")
    pbx.bridge_leave(bridge, caller)
    pbx.bridge_destroy(bridge)
    pbx.hangup(transferer, 16)
    call.bridge = None
    call.peer = None
    caller.context, caller.exten, caller.priority = context, exten, 1


@dataclass
class Consultation:
    """The transferer's second call (leg2 -> target), before the transfer completes."""

    second: Channel
    target: Attempt
    bridge: Bridge | None = None


def consult_start(pbx: PbxModel, call: Call, transferer: Channel, number: str) -> Consultation:
    """The agent phone holds the caller and places a new call: a new Linkedid."""
    hold(pbx, call, transferer)
    second = pbx.new_channel(
        transferer.endpoint,
        state=ChannelState.RING,
        caller=(transferer.caller_num, transferer.caller_name),
        context="from-internal",
        exten=number,
    )
    track(pbx, call, second)
    attempt = dial_extension(pbx, call, second, number)
    if attempt is None:
        raise ValueError(f"no phone {number} to consult")
    return Consultation(second=second, target=attempt)


def consult_answer(pbx: PbxModel, call: Call, consult: Consultation) -> None:
    consult.bridge = answer_extension(pbx, call, consult.second, consult.target)


def attended_transfer(
    pbx: PbxModel, call: Call, transferer: Channel, consult: Consultation, *, external: bool
) -> None:
    """Complete the transfer: the target replaces the transferer in the caller's bridge."""
    caller, bridge, target = call.caller, call.bridge, consult.target.leg
    assert bridge is not None and consult.bridge is not None
    unhold(pbx, call)
    pbx.emit_channel("Unhold", consult.second)
    # Snapshots are taken before anything moves (stasis_bridges.c), so the target
    # still shows the consultation's Linkedid here.
    fields = [
        ("Result", "Success"),
        *transferer.block("OrigTransferer"),
        *bridge.block("Orig"),
        *consult.second.block("SecondTransferer"),
        *consult.bridge.block("Second"),
        *caller.block("Transferee"),
        *target.block("TransferTarget"),
        ("IsExternal", "Yes" if external else "No"),
        ("DestType", "Bridge"),
        ("DestBridgeUniqueid", bridge.uniqueid),
    ]
    pbx.bridge_leave(consult.bridge, target)
    pbx.bridge_leave(bridge, transferer)
    pbx.bridge_enter(bridge, target, swap=transferer)
    pbx.bridge_leave(consult.bridge, consult.second)
    pbx.bridge_destroy(consult.bridge)
    pbx.emit("AttendedTransfer", "call", fields)
    agent_complete(pbx, call, "transfer")
    pbx.set_connected(caller, target.caller_num, target.caller_name)
    pbx.set_connected(target, caller.caller_num, caller.caller_name)
    pbx.hangup(transferer, 16)
    pbx.hangup(consult.second, 16)
    call.peer = target
    track(pbx, call, target)
