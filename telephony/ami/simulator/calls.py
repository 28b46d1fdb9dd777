"""Queue call flows: a caller arrives, queues, agents ring, someone answers, it ends.

Each function is one moment of a call and emits that moment's events in the order
the transcripts show (docs/ami.md §6.6): scripts decide *when*, these
functions decide *what*. They are shared by the scenario scripts, the load
generator and the AMI action handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from telephony.ami.simulator.channels import Bridge, Channel, ChannelState, DeviceState
from telephony.ami.simulator.clock import USEC
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.queues import Member, Queue, QueueEntry


@dataclass
class Attempt:
    """One leg being rung for a call (a queue member, or a dialed extension)."""

    leg: Channel
    member: Member | None
    started_usec: int


@dataclass
class Call:
    """A customer call: the first channel plus whoever it is connected to."""

    caller: Channel
    direction: str
    queue: Queue | None = None
    joined_usec: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    # The leg the caller talks to, and the queue member owed an AgentComplete.
    peer: Channel | None = None
    member: Member | None = None
    bridge: Bridge | None = None
    connected_usec: int = 0
    hold_seconds: int = 0
    holder: Channel | None = None
    ended: bool = False
    last_app: str = ""
    last_data: str = ""
    answered_usec: int = 0

    @property
    def linkedid(self) -> str:
        return self.caller.linkedid


def track(pbx: PbxModel, call: Call, channel: Channel) -> None:
    pbx.calls[channel.name] = call


def inbound_arrive(pbx: PbxModel, caller_num: str, caller_name: str) -> Call:
    """A call from the trunk to the DID: Newchannel (Ring), Answer(), Up."""
    directory = pbx.directory
    channel = pbx.new_channel(
        directory.trunk,
        state=ChannelState.RING,
        caller=(caller_num, caller_name),
        context=directory.trunk_context,
        exten=directory.did,
    )
    call = Call(caller=channel, direction="inbound")
    track(pbx, call, channel)
    pbx.newexten(channel, "Answer", "", 1)
    pbx.set_state(channel, ChannelState.UP)
    call.answered_usec = pbx.clock.now()
    return call


def queue_join(pbx: PbxModel, call: Call, queue: Queue) -> None:
    caller = call.caller
    app_data = pbx.directory.queue_app_data_for(queue.name)
    pbx.newexten(caller, "Queue", app_data, 2)
    call.queue = queue
    call.joined_usec = pbx.clock.now()
    call.last_app, call.last_data = "Queue", app_data
    queue.entries.append(QueueEntry(caller, call.joined_usec, len(queue.entries) + 1))
    position = str(len(queue.entries))
    extra = [("Queue", queue.name), ("Position", position), ("Count", position)]
    pbx.emit_channel("QueueCallerJoin", caller, extra, privilege="agent")
    pbx.set_custom_device(f"Queue:{queue.name}", DeviceState.RINGING)
    pbx.moh_start(caller)


def queue_leave(pbx: PbxModel, call: Call) -> None:
    queue = call.queue
    if queue is None:
        return
    entry = queue.entry_for(call.caller)
    if entry is None:
        return
    position = queue.position_of(call.caller)
    queue.entries.remove(entry)
    extra = [("Queue", queue.name), ("Position", str(position)), ("Count", str(len(queue.entries)))]
    pbx.emit_channel("QueueCallerLeave", call.caller, extra, privilege="agent")
    if not queue.entries:
        pbx.set_custom_device(f"Queue:{queue.name}", DeviceState.NOT_INUSE)


def pick_member(pbx: PbxModel, queue: Queue) -> Member | None:
    """rrmemory: the next available member after the one rung last."""
    members = list(queue.members.values())
    if not members:
        return None
    interfaces = [member.interface for member in members]
    start = interfaces.index(queue.rr_last) + 1 if queue.rr_last in interfaces else 0
    for offset in range(len(members)):
        member = members[(start + offset) % len(members)]
        if pbx.is_available(member):
            queue.rr_last = member.interface
            return member
    return None


def _agent_block(pbx: PbxModel, call: Call, attempt: Attempt) -> list[tuple[str, str]]:
    member = attempt.member
    assert member is not None and call.queue is not None
    return [
        *call.caller.block(),
        *attempt.leg.block("Dest"),
        ("Queue", call.queue.name),
        ("Interface", member.interface),
        ("MemberName", member.name),
    ]


def ring_member(pbx: PbxModel, call: Call, member: Member) -> Attempt:
    """app_queue's ring_entry: the agent leg (Down), AgentCalled, DialBegin."""
    phone = pbx.directory.phone(member.interface.removeprefix("PJSIP/"))
    number, name = (phone.number, phone.name) if phone else (member.interface, member.name)
    caller = call.caller
    leg = pbx.new_channel(
        number,
        state=ChannelState.DOWN,
        caller=(number, name),
        context=phone.context if phone else "from-internal",
        exten="s",
        linkedid=caller.linkedid,
    )
    track(pbx, call, leg)
    member.reserved = True
    # app_queue copies the caller's exten and connected line onto the leg before
    # AgentCalled (a fresh snapshot); DialBegin still prints the cached one.
    leg.exten = caller.exten
    leg.connected_num, leg.connected_name = caller.caller_num, caller.caller_name
    attempt = Attempt(leg=leg, member=member, started_usec=pbx.clock.now())
    call.attempts.append(attempt)
    pbx.emit("AgentCalled", "agent", _agent_block(pbx, call, attempt))
    pbx.dial_begin(caller, leg, member.interface)
    return attempt


def ring_alert(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    """The phone starts ringing: Newstate Ringing, DialState RINGING (device later)."""
    leg = attempt.leg
    pbx.set_state(leg, ChannelState.RINGING)
    if attempt.member is not None:
        pbx.newexten(leg, "AppQueue", "(Outgoing Line)", 1)
    pbx.set_connected(leg, call.caller.caller_num, call.caller.caller_name)
    pbx.dial_state(call.caller, leg, "RINGING")


def drop_attempt(pbx: PbxModel, call: Call, attempt: Attempt, statuses: tuple[str, ...]) -> None:
    # app_queue publishes the final dial status twice (wait_for_answer, hangupcalls).
    for status in statuses:
        pbx.dial_end(call.caller, attempt.leg, status)
    pbx.hangup(attempt.leg, 0)
    if attempt.member is not None:
        attempt.member.reserved = False
    if attempt in call.attempts:
        call.attempts.remove(attempt)


def ring_no_answer(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    ring_ms = (pbx.clock.now() - attempt.started_usec) // 1000
    block = _agent_block(pbx, call, attempt)
    pbx.emit("AgentRingNoAnswer", "agent", [*block, ("RingTime", str(ring_ms))])
    drop_attempt(pbx, call, attempt, ("NOANSWER", "CANCEL"))


def queue_answer(pbx: PbxModel, call: Call, attempt: Attempt) -> None:
    """The member answers: DialEnd ANSWER, leave the queue, AgentConnect, bridge."""
    caller, leg, member, queue = call.caller, attempt.leg, attempt.member, call.queue
    assert member is not None and queue is not None
    now = pbx.clock.now()
    pbx.set_state(leg, ChannelState.UP)
    pbx.set_connected(caller, leg.caller_num, leg.caller_name)
    pbx.dial_end(caller, leg, "ANSWER")
    call.attempts.remove(attempt)
    for other in list(call.attempts):
        drop_attempt(pbx, call, other, ("CANCEL",))
    pbx.moh_stop(caller)
    queue_leave(pbx, call)
    hold_time = (now - call.joined_usec) // USEC
    ring_time = (now - attempt.started_usec) // USEC
    extra = [("HoldTime", str(hold_time)), ("RingTime", str(ring_time))]
    pbx.emit("AgentConnect", "agent", [*_agent_block(pbx, call, attempt), *extra])
    queue.record_hold(hold_time)
    member.reserved = False
    member.in_call = True
    call.member, call.peer, call.connected_usec = member, leg, now
    call.hold_seconds = hold_time
    connect(pbx, call, leg, caller)


def connect(pbx: PbxModel, call: Call, first: Channel, second: Channel) -> None:
    """A basic bridge with ``first`` imparted before ``second`` (the fixtures' order)."""
    bridge = pbx.bridge_create()
    pbx.bridge_enter(bridge, first)
    pbx.bridge_enter(bridge, second)
    pbx.varset(call.caller, "BRIDGEPEER", call.peer.name if call.peer else "")
    if call.peer is not None:
        pbx.varset(call.peer, "BRIDGEPEER", call.caller.name)
    call.bridge = bridge


def agent_complete(pbx: PbxModel, call: Call, reason: str) -> None:
    member, queue, peer = call.member, call.queue, call.peer
    if member is None or queue is None or peer is None:
        return
    talk = (pbx.clock.now() - call.connected_usec) // USEC
    pbx.emit(
        "AgentComplete",
        "agent",
        [
            *call.caller.block(),
            *peer.block("Dest"),
            ("Queue", queue.name),
            ("Interface", member.interface),
            ("MemberName", member.name),
            ("HoldTime", str(call.hold_seconds)),
            ("TalkTime", str(talk)),
            ("Reason", reason),
        ],
    )
    # app_queue's update_queue: visible in the member's next QueueMemberStatus.
    member.in_call = False
    pbx.end_member_call(member, queue)
    queue.record_talk(talk)
    call.member = None


def abandon(pbx: PbxModel, call: Call) -> None:
    """The caller hangs up while queued (maybe while agents ring)."""
    caller, queue = call.caller, call.queue
    pbx.hangup_request(caller, 16)
    for attempt in list(call.attempts):
        drop_attempt(pbx, call, attempt, ("CANCEL", "CANCEL"))
    if queue is not None:
        entry = queue.entry_for(caller)
        if entry is not None:
            hold_time = (pbx.clock.now() - call.joined_usec) // USEC
            extra = [
                ("Queue", queue.name),
                ("Position", str(queue.position_of(caller))),
                ("OriginalPosition", str(entry.original_position)),
                ("HoldTime", str(hold_time)),
            ]
            pbx.emit_channel("QueueCallerAbandon", caller, extra, privilege="agent")
            queue.abandoned += 1
        queue_leave(pbx, call)
    pbx.soft_hangup_request(caller, 16)
    pbx.moh_stop(caller)
    finish(pbx, call, [caller])


def request_callback(pbx: PbxModel, call: Call, number: str = "") -> None:
    """The waiting caller presses 1, the key of the queue's exit context
    (deploy/asterisk: queues.conf ``context=queue-callback``): app_queue stops ringing
    for them and lets them go (QueueCallerLeave, no abandon); the dialplan's
    ``[queue-callback]`` raises ``UserEvent: CallbackRequest``, says goodbye, hangs up."""
    caller, queue = call.caller, call.queue
    if queue is None:
        return
    for attempt in list(call.attempts):
        drop_attempt(pbx, call, attempt, ("CANCEL", "CANCEL"))
    position = queue.position_of(caller) if queue.entry_for(caller) is not None else 0
    queue_leave(pbx, call)
    pbx.moh_stop(caller)
    number = number or caller.caller_num
    data = f"CallbackRequest,Queue: {queue.name},Number: {number},Position: {position}"
    pbx.newexten(caller, "UserEvent", data, 2)
    extra = [
        ("UserEvent", "CallbackRequest"),
        ("Queue", queue.name),
        ("Number", number),
        ("Position", str(position)),
    ]
    pbx.emit_channel("UserEvent", caller, extra, privilege="user")
    pbx.newexten(caller, "Playback", "queue-callback-thanks", 3)
    pbx.soft_hangup_request(caller, 16)
    finish(pbx, call, [caller])


def hangup_connected(pbx: PbxModel, call: Call, hanger: Channel) -> None:
    """One side of a bridged two-party call hangs up; the other follows.

    When the caller hangs up its channel still runs dialplan, so the peer goes first
    (fixture 01); when the peer hangs up, the caller is soft-hung-up last (05).
    """
    caller, peer, bridge = call.caller, call.peer, call.bridge
    if peer is None or bridge is None:
        finish(pbx, call, [hanger])
        return
    pbx.hangup_request(hanger, 16)
    agent_complete(pbx, call, "caller" if hanger is caller else "agent")
    if hanger is caller:
        pbx.bridge_leave(bridge, caller)
        pbx.soft_hangup_request(caller, 16)
        pbx.bridge_destroy(bridge)
        finish(pbx, call, [peer, caller])
    else:
        pbx.bridge_leave(bridge, peer)
        pbx.bridge_destroy(bridge)
        pbx.hangup(peer, 16)
        pbx.soft_hangup_request(caller, 16)
        finish(pbx, call, [caller])


def finish(pbx: PbxModel, call: Call, channels: list[Channel]) -> None:
    """Hang up what is left, in order, then the CDR; the call is over."""
    for channel in channels:
        pbx.hangup(channel, 16)
    # Whatever else still belongs to the call (a leg being rung, a consultation call
    # interrupted by an AMI Hangup) goes too, so every Newchannel gets its Hangup.
    tracked = [pbx.channels.get(name) for name, owner in pbx.calls.items() if owner is call]
    leftovers = [call.caller, *(a.leg for a in call.attempts), *(ch for ch in tracked if ch)]
    for leftover in leftovers:
        if not leftover.hungup:
            pbx.hangup(leftover, 16)
    if call.ended:
        return
    call.ended = True
    for name in [name for name, tracked in pbx.calls.items() if tracked is call]:
        del pbx.calls[name]
    if pbx.directory.cdr_events:
        emit_cdr(pbx, call)


def emit_cdr(pbx: PbxModel, call: Call) -> None:
    caller = call.caller
    start = caller.created_usec
    end = pbx.clock.now()
    answered = call.answered_usec or 0

    def stamp(usec: int) -> str:
        return datetime.fromtimestamp(usec / USEC, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")

    duration = (end - start) // USEC
    billable = (end - answered) // USEC if answered else 0
    name = caller.caller_name
    caller_id = f'"{name}" <{caller.caller_num}>' if name else f"<{caller.caller_num}>"
    pbx.emit(
        "Cdr",
        "cdr",
        [
            ("AccountCode", ""),
            ("Source", caller.caller_num),
            ("Destination", pbx.directory.did if call.direction == "inbound" else caller.exten),
            ("DestinationContext", caller.context),
            ("CallerID", caller_id),
            ("Channel", caller.name),
            ("DestinationChannel", call.peer.name if call.peer else ""),
            ("LastApplication", call.last_app),
            ("LastData", call.last_data),
            ("StartTime", stamp(start)),
            ("AnswerTime", stamp(answered) if answered else ""),
            ("EndTime", stamp(end)),
            ("Duration", str(duration)),
            ("BillableSeconds", str(billable)),
            ("Disposition", "ANSWERED" if answered else "NO ANSWER"),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", caller.uniqueid),
            ("UserField", ""),
        ],
    )
