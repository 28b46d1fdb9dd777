"""The in-memory PBX: channels, bridges, queues, device states, and event emission.

Every method here is one primitive Asterisk operation that emits exactly the events
Asterisk 20 emits for it, with the field blocks of docs/ami.md §3. Call flows
(callflow.py) compose these primitives; nothing else emits events.

Device states follow chan_pjsip and app_queue: an endpoint's state is aggregated
from its channels, and a change is published as DeviceStateChange, then
ExtensionStatus for the agent's hint, then one QueueMemberStatus per queue the
device is a member of. Asterisk computes these on a separate thread, so they lag the
channel events: here they are collected and flushed after each script step, or
right away where the fixtures show them right away (Newchannel, Hangup, Hold).
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.channels import (
    CAUSE_TEXT,
    EXTENSION_STATUS,
    Bridge,
    Channel,
    ChannelState,
    DeviceState,
    Fields,
    aggregate_device_state,
)
from telephony.ami.simulator.clock import USEC, SimClock, format_timestamp
from telephony.ami.simulator.directory import Directory
from telephony.ami.simulator.queues import Member, Queue

if TYPE_CHECKING:
    from telephony.ami.simulator.calls import Call

EventSink = Callable[[AmiMessage], None]


class PbxModel:
    def __init__(
        self, directory: Directory, clock: SimClock, sink: EventSink, *, seed: int = 0
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.sink = sink
        self.rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not secrets
        self.counts: Counter[str] = Counter()
        self.channels: dict[str, Channel] = {}
        # Endpoint -> its live channels, by name (in creation order, as ``channels``): a
        # device's state is refreshed on every change of its channels, and a scan of all
        # the PBX's channels each time cost the load generator a third of its time.
        self._by_endpoint: dict[str, dict[str, Channel]] = {}
        self.bridges: dict[str, Bridge] = {}
        self.queues: dict[str, Queue] = {}
        # Channel name -> the call it belongs to (calls.py keeps this up to date).
        self.calls: dict[str, Call] = {}
        self._uniqueid_seq = itertools.count(1)
        self._pjsip_seq = itertools.count(1)
        self._devices: dict[str, DeviceState] = {}
        self._dirty: set[str] = set()
        login = self.clock.now() // USEC - 600
        for spec in directory.queues:
            queue = Queue(name=spec.name, strategy=spec.strategy, timeout=spec.timeout)
            queue.retry = spec.retry
            queue.ringinuse, queue.wrapuptime = spec.ringinuse, spec.wrapuptime
            for number in spec.members:
                phone = directory.phone(number)
                if phone is None:
                    raise ValueError(f"queue {spec.name} names unknown phone {number}")
                queue.members[phone.interface] = Member(
                    queue=spec.name,
                    interface=phone.interface,
                    name=phone.name,
                    state_interface=phone.interface,
                    login_time=login,
                    ringinuse=spec.ringinuse,
                )
            self.queues[spec.name] = queue
            self._devices[f"Queue:{spec.name}_avail"] = self._avail_state(queue)

    # -- identities --------------------------------------------------------------

    def new_uniqueid(self) -> str:
        return f"{self.clock.now() // USEC}.{next(self._uniqueid_seq)}"

    def new_bridge_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(name)

    def channels_of(self, endpoint: str) -> list[Channel]:
        return list(self._by_endpoint.get(endpoint, {}).values())

    # -- emission ----------------------------------------------------------------

    def emit(self, event: str, privilege: str, fields: Iterable[tuple[str, str]]) -> None:
        header = (
            ("Event", event),
            ("Privilege", f"{privilege},all"),
            ("Timestamp", format_timestamp(self.clock.tick())),
        )
        self.counts[event] += 1
        self.sink(AmiMessage((*header, *fields)))

    def emit_channel(
        self,
        event: str,
        channel: Channel,
        extra: Sequence[tuple[str, str]] = (),
        privilege: str = "call",
    ) -> None:
        block = channel.block()
        channel.published = block
        self.emit(event, privilege, [*block, *extra])

    def emit_dial(
        self,
        event: str,
        caller: Channel | None,
        dest: Channel,
        extra: Sequence[tuple[str, str]],
        *,
        stale: bool,
    ) -> None:
        fields: Fields = caller.block() if caller is not None else []
        fields += dest.stale_block("Dest") if stale else dest.block("Dest")
        self.emit(event, "call", [*fields, *extra])

    # -- channels ----------------------------------------------------------------

    def new_channel(
        self,
        endpoint: str,
        *,
        state: ChannelState,
        caller: tuple[str, str],
        context: str,
        exten: str,
        linkedid: str | None = None,
        uniqueid: str | None = None,
    ) -> Channel:
        uniqueid = uniqueid or self.new_uniqueid()
        channel = Channel(
            name=f"PJSIP/{endpoint}-{next(self._pjsip_seq):08x}",
            uniqueid=uniqueid,
            linkedid=linkedid or uniqueid,
            endpoint=endpoint,
            created_usec=self.clock.now(),
            state=state,
            caller_num=caller[0],
            caller_name=caller[1],
            context=context,
            exten=exten,
        )
        self.channels[channel.name] = channel
        self._by_endpoint.setdefault(endpoint, {})[channel.name] = channel
        self.emit_channel("Newchannel", channel)
        self.refresh_device(endpoint)
        return channel

    def set_state(self, channel: Channel, state: ChannelState) -> None:
        channel.state = state
        self.emit_channel("Newstate", channel)
        self._dirty.add(channel.endpoint)

    def newexten(self, channel: Channel, application: str, data: str, priority: int) -> None:
        channel.priority = priority
        channel.application = application
        channel.app_data = data
        if self.directory.dialplan_events:
            extra = [("Extension", channel.exten), ("Application", application), ("AppData", data)]
            self.emit_channel("Newexten", channel, extra, privilege="dialplan")

    def varset(self, channel: Channel, variable: str, value: str) -> None:
        if self.directory.dialplan_events:
            extra = [("Variable", variable), ("Value", value)]
            self.emit_channel("VarSet", channel, extra, privilege="dialplan")

    def set_connected(self, channel: Channel, num: str, name: str) -> None:
        channel.connected_num, channel.connected_name = num, name
        self.emit_channel("NewConnectedLine", channel)

    def set_callerid(self, channel: Channel, num: str, name: str) -> None:
        channel.caller_num, channel.caller_name = num, name
        presentation = [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
        self.emit_channel("NewCallerid", channel, presentation)

    def dial_begin(self, caller: Channel | None, dest: Channel, dial_string: str) -> None:
        # DialBegin prints the last published (stale) snapshot of the dialed leg.
        self.emit_dial("DialBegin", caller, dest, [("DialString", dial_string)], stale=True)

    def dial_state(self, caller: Channel | None, dest: Channel, status: str) -> None:
        self.emit_dial("DialState", caller, dest, [("DialStatus", status)], stale=False)

    def dial_end(self, caller: Channel | None, dest: Channel, status: str) -> None:
        self.emit_dial("DialEnd", caller, dest, [("DialStatus", status)], stale=False)

    def moh_start(self, channel: Channel, music_class: str = "default") -> None:
        self.emit_channel("MusicOnHoldStart", channel, [("Class", music_class)])

    def moh_stop(self, channel: Channel) -> None:
        self.emit_channel("MusicOnHoldStop", channel)

    def hold(self, holder: Channel) -> list[Channel]:
        """``holder`` puts its bridge peers on hold: Hold, the peers' device ONHOLD, MOH."""
        self.emit_channel("Hold", holder, [("MusicClass", "default")])
        peers = holder.bridge.peers(holder) if holder.bridge else []
        for peer in peers:
            peer.held = True
            self.refresh_device(peer.endpoint)
            self.moh_start(peer)
        return peers

    def unhold(self, holder: Channel) -> None:
        self.emit_channel("Unhold", holder)
        for peer in holder.bridge.peers(holder) if holder.bridge else []:
            if peer.held:
                peer.held = False
                self.moh_stop(peer)
                self.refresh_device(peer.endpoint)

    def hangup_request(self, channel: Channel, cause: int = 16) -> None:
        self.emit_channel("HangupRequest", channel, [("Cause", str(cause))])

    def soft_hangup_request(self, channel: Channel, cause: int = 16) -> None:
        self.emit_channel("SoftHangupRequest", channel, [("Cause", str(cause))])

    def hangup(self, channel: Channel, cause: int = 16) -> None:
        """The final event of a channel; its device state is published right after."""
        if channel.hungup:
            return
        bridge = channel.bridge
        if bridge is not None:
            # Flows leave bridges explicitly; this only tidies up after an interruption.
            self.bridge_leave(bridge, channel)
            if not bridge.channels and bridge.uniqueid in self.bridges:
                self.bridge_destroy(bridge)
        channel.hungup = True
        text = CAUSE_TEXT.get(cause, "Unknown")
        self.emit_channel("Hangup", channel, [("Cause", str(cause)), ("Cause-txt", text)])
        self.channels.pop(channel.name, None)
        own = self._by_endpoint.get(channel.endpoint, {})
        own.pop(channel.name, None)
        if not own:
            self._by_endpoint.pop(channel.endpoint, None)
        self.calls.pop(channel.name, None)
        self.refresh_device(channel.endpoint)

    # -- bridges -----------------------------------------------------------------

    def bridge_create(self) -> Bridge:
        bridge = Bridge(uniqueid=self.new_bridge_id())
        self.bridges[bridge.uniqueid] = bridge
        self.emit("BridgeCreate", "call", bridge.block())
        return bridge

    def bridge_enter(self, bridge: Bridge, channel: Channel, swap: Channel | None = None) -> None:
        bridge.channels.append(channel)
        channel.bridge = bridge
        # A basic bridge gives every member the oldest Linkedid present (bridge_basic.c).
        oldest = min(bridge.channels, key=lambda ch: _uniqueid_order(ch.linkedid)).linkedid
        for member in bridge.channels:
            member.linkedid = oldest
        extra: Fields = [("SwapUniqueid", swap.uniqueid)] if swap is not None else []
        self.emit("BridgeEnter", "call", [*bridge.block(), *channel.block(), *extra])

    def bridge_leave(self, bridge: Bridge, channel: Channel) -> None:
        if channel not in bridge.channels:
            return
        bridge.channels.remove(channel)
        channel.bridge = None
        if channel.held:
            channel.held = False
            self._dirty.add(channel.endpoint)
        self.emit("BridgeLeave", "call", [*bridge.block(), *channel.block()])

    def bridge_destroy(self, bridge: Bridge) -> None:
        for channel in list(bridge.channels):
            self.bridge_leave(bridge, channel)
        self.bridges.pop(bridge.uniqueid, None)
        self.emit("BridgeDestroy", "call", bridge.block())

    # -- devices -----------------------------------------------------------------

    def device_state(self, interface: str) -> DeviceState:
        return self._devices.get(interface, DeviceState.NOT_INUSE)

    def mark_dirty(self, endpoint: str) -> None:
        self._dirty.add(endpoint)

    def flush_devices(self) -> None:
        while self._dirty:
            self.refresh_device(self._dirty.pop())

    def refresh_device(self, endpoint: str) -> None:
        self._dirty.discard(endpoint)
        device = f"PJSIP/{endpoint}"
        state = aggregate_device_state(self.channels_of(endpoint))
        if self._devices.get(device, DeviceState.NOT_INUSE) == state:
            return
        self._devices[device] = state
        self.emit("DeviceStateChange", "call", [("Device", device), ("State", state.name)])
        phone = self.directory.phone(endpoint)
        if phone is not None:
            status, text = EXTENSION_STATUS.get(state, (-1, "Unknown"))
            self.emit(
                "ExtensionStatus",
                "call",
                [
                    ("Exten", phone.number),
                    ("Context", phone.context),
                    ("Hint", device),
                    ("Status", str(status)),
                    ("StatusText", text),
                ],
            )
        for member in self.members_on(device):
            self.emit_member("QueueMemberStatus", member)

    def set_custom_device(self, device: str, state: DeviceState) -> None:
        """app_queue's own device states (``Queue:support``, ``Queue:q_pause_iface``)."""
        if self._devices.get(device, DeviceState.NOT_INUSE) == state:
            return
        self._devices[device] = state
        self.emit("DeviceStateChange", "call", [("Device", device), ("State", state.name)])

    # -- queue members -----------------------------------------------------------

    def members_on(self, state_interface: str) -> list[Member]:
        found = []
        for queue in self.queues.values():
            for member in queue.members.values():
                if member.state_interface == state_interface:
                    found.append(member)
        return found

    def member_status(self, member: Member) -> DeviceState:
        return self.device_state(member.state_interface)

    def emit_member(self, event: str, member: Member) -> None:
        self.emit(event, "agent", member.blob(self.member_status(member)))

    def is_available(self, member: Member) -> bool:
        """Whether a queue may ring ``member`` now: app_queue's can_ring_entry.

        Not paused; with ringinuse off, its device idle (or unknown) and not being rung
        for another caller by any queue; and its wrap-up time over since its last queue call (the
        member's own wrapuptime, else its last call's queue's).
        """
        if member.paused:
            return False
        # Reserved by any queue: app_queue's pending members are keyed by interface.
        if not member.ringinuse and (
            any(m.reserved for m in self.members_on(member.state_interface))
            or self.member_status(member) not in (DeviceState.NOT_INUSE, DeviceState.UNKNOWN)
        ):
            return False
        last = self.queues.get(member.last_queue or member.queue)
        wrapuptime = member.wrapuptime or (last.wrapuptime if last else 0)
        return not (wrapuptime and self.now_seconds() - member.last_call < wrapuptime)

    def end_member_call(self, member: Member, queue: Queue) -> None:
        """app_queue's update_queue with shared_lastcall (its default): the member's last
        call, and the queue it came from, in every queue the interface is a member of,
        so the wrap-up time keeps all of them from ringing it."""
        now = self.now_seconds()
        member.calls_taken += 1
        for other in self.members_on(member.state_interface):
            other.last_call, other.last_queue = now, queue.name

    def refresh_queue_avail(self, queue: Queue) -> None:
        self.set_custom_device(f"Queue:{queue.name}_avail", self._avail_state(queue))

    def _avail_state(self, queue: Queue) -> DeviceState:
        usable = any(not member.paused for member in queue.members.values())
        return DeviceState.NOT_INUSE if usable else DeviceState.INUSE

    def snapshot_statuses(self) -> dict[str, DeviceState]:
        return dict(self._devices)

    def now_seconds(self) -> int:
        return self.clock.now() // USEC


def _uniqueid_order(uniqueid: str) -> tuple[int, int]:
    seconds, _, counter = uniqueid.rpartition(".")
    try:
        return int(seconds.rsplit("-", 1)[-1]), int(counter)
    except ValueError:
        return (0, 0)
