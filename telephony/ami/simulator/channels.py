"""Channels and bridges of the simulated PBX, and the field blocks AMI prints for them.

Field order follows Asterisk 20 exactly (docs/ami.md §3): the channel block from
``ast_manager_build_channel_state_string_prefix`` and the bridge block from
``ast_manager_build_bridge_state_string_prefix``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

Fields = list[tuple[str, str]]

UNKNOWN = "<unknown>"


class ChannelState(enum.IntEnum):
    DOWN = 0
    RSRVD = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7


STATE_DESC = {
    ChannelState.DOWN: "Down",
    ChannelState.RSRVD: "Rsrvd",
    ChannelState.OFFHOOK: "OffHook",
    ChannelState.DIALING: "Dialing",
    ChannelState.RING: "Ring",
    ChannelState.RINGING: "Ringing",
    ChannelState.UP: "Up",
    ChannelState.BUSY: "Busy",
}

CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    127: "Interworking, unspecified",
}


@dataclass
class Channel:
    """One leg. ``endpoint`` is the PJSIP endpoint (``trunk``, ``1001``) behind it."""

    name: str
    uniqueid: str
    linkedid: str
    endpoint: str
    created_usec: int
    state: ChannelState
    caller_num: str
    caller_name: str
    context: str
    exten: str
    priority: int = 1
    connected_num: str = ""
    connected_name: str = ""
    language: str = "en"
    account_code: str = ""
    application: str = ""
    app_data: str = ""
    bridge: Bridge | None = None
    # Put on hold by its bridge peer: drives the ONHOLD device state.
    held: bool = False
    hungup: bool = False
    # The block as last published: DialBegin prints this stale snapshot (stasis cache).
    published: Fields = field(default_factory=list)

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.endpoint}"

    def block(self, prefix: str = "") -> Fields:
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(int(self.state))),
            (f"{prefix}ChannelStateDesc", STATE_DESC[self.state]),
            (f"{prefix}CallerIDNum", self.caller_num or UNKNOWN),
            (f"{prefix}CallerIDName", self.caller_name or UNKNOWN),
            (f"{prefix}ConnectedLineNum", self.connected_num or UNKNOWN),
            (f"{prefix}ConnectedLineName", self.connected_name or UNKNOWN),
            (f"{prefix}Language", self.language),
            (f"{prefix}AccountCode", self.account_code),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]

    def stale_block(self, prefix: str = "") -> Fields:
        """The last published snapshot, re-prefixed (what DialBegin shows for Dest)."""
        source = self.published or self.block()
        return [(f"{prefix}{key}", value) for key, value in source]

    def dial_location(self) -> tuple[str, str, int]:
        return self.context, self.exten, self.priority


@dataclass
class Bridge:
    uniqueid: str
    channels: list[Channel] = field(default_factory=list)
    bridge_type: str = "basic"
    technology: str = "simple_bridge"
    creator: str = UNKNOWN
    name: str = UNKNOWN

    def block(self, prefix: str = "") -> Fields:
        return [
            (f"{prefix}BridgeUniqueid", self.uniqueid),
            (f"{prefix}BridgeType", self.bridge_type),
            (f"{prefix}BridgeTechnology", self.technology),
            (f"{prefix}BridgeCreator", self.creator),
            (f"{prefix}BridgeName", self.name),
            (f"{prefix}BridgeNumChannels", str(len(self.channels))),
            (f"{prefix}BridgeVideoSourceMode", "none"),
        ]

    def peers(self, channel: Channel) -> list[Channel]:
        return [other for other in self.channels if other is not channel]


class DeviceState(enum.IntEnum):
    """ast_device_state: the numbers QueueMemberStatus prints as ``Status``."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


# ExtensionStatus Status/StatusText for a hint in each device state.
EXTENSION_STATUS = {
    DeviceState.NOT_INUSE: (0, "Idle"),
    DeviceState.INUSE: (1, "InUse"),
    DeviceState.BUSY: (2, "Busy"),
    DeviceState.UNAVAILABLE: (4, "Unavailable"),
    DeviceState.RINGING: (8, "Ringing"),
    DeviceState.RINGINUSE: (9, "InUse&Ringing"),
    DeviceState.ONHOLD: (16, "Hold"),
}


def aggregate_device_state(channels: list[Channel]) -> DeviceState:
    """The device state of an endpoint from its live channels (chan_pjsip's rules, simplified)."""
    ringing = in_use = held = False
    for channel in channels:
        if channel.state in (ChannelState.RING, ChannelState.RINGING):
            # An inbound channel still in Ring is already "in use" for the device.
            if channel.state == ChannelState.RINGING:
                ringing = True
            else:
                in_use = True
        elif channel.state == ChannelState.UP:
            if channel.held:
                held = True
            else:
                in_use = True
    if ringing:
        return DeviceState.RINGINUSE if in_use else DeviceState.RINGING
    if in_use:
        return DeviceState.INUSE
    if held:
        return DeviceState.ONHOLD
    return DeviceState.NOT_INUSE
