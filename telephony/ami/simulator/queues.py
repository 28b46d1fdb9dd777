"""Queues and queue members of the simulated PBX, and their AMI payloads.

Payload order is app_queue's ``ast_json_pack()`` order (docs/ami.md §4 and §5):
one blob for QueueMemberStatus/Added/Removed/Pause, and the list items of the
QueueStatus and QueueSummary actions, whose ``ActionID`` comes last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telephony.ami.simulator.channels import Channel, DeviceState, Fields


@dataclass
class Member:
    queue: str
    interface: str
    name: str
    state_interface: str
    login_time: int
    membership: str = "dynamic"
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    in_call: bool = False
    paused: bool = False
    paused_reason: str = ""
    ringinuse: bool = False
    # The member's own wrapuptime (queues.conf member line); 0: the queue's.
    wrapuptime: int = 0
    # The queue of the member's last call (app_queue's lastqueue): its wrap-up time runs.
    last_queue: str = ""
    # Set while app_queue rings this member for a caller, so no second caller picks it,
    # in this queue or another one the interface is in (app_queue's pending_members,
    # kept by interface, only for members with ringinuse off).
    reserved: bool = False

    def blob(self, status: DeviceState) -> Fields:
        return [
            ("Queue", self.queue),
            ("MemberName", self.name),
            ("Interface", self.interface),
            ("StateInterface", self.state_interface),
            ("Membership", self.membership),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(int(status))),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
            ("Ringinuse", "1" if self.ringinuse else "0"),
            ("Wrapuptime", str(self.wrapuptime)),
        ]

    def status_item(self, status: DeviceState) -> Fields:
        """The QueueMember list item of the QueueStatus action (no ActionID yet)."""
        return [
            ("Queue", self.queue),
            ("Name", self.name),
            ("Location", self.interface),
            ("StateInterface", self.state_interface),
            ("Membership", self.membership),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(int(status))),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
            ("Wrapuptime", str(self.wrapuptime)),
        ]


@dataclass
class QueueEntry:
    channel: Channel
    joined_usec: int
    original_position: int


@dataclass
class Queue:
    name: str
    strategy: str = "rrmemory"
    timeout: int = 15
    retry: int = 5
    service_level: int = 60
    weight: int = 0
    ringinuse: bool = False
    wrapuptime: int = 0
    members: dict[str, Member] = field(default_factory=dict)
    entries: list[QueueEntry] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    # Running averages app_queue keeps (seconds), as QueueParams/QueueSummary print them.
    holdtime: int = 0
    talktime: int = 0
    completed_in_sl: int = 0
    # rrmemory: where the last ring started, so the next caller starts after it.
    rr_last: str = ""

    def position_of(self, channel: Channel) -> int:
        for position, entry in enumerate(self.entries, start=1):
            if entry.channel is channel:
                return position
        return 0

    def entry_for(self, channel: Channel) -> QueueEntry | None:
        for entry in self.entries:
            if entry.channel is channel:
                return entry
        return None

    def record_hold(self, hold_seconds: int) -> None:
        # app_queue's recalc_holdtime: new = (old * 3 + sample) / 4.
        self.holdtime = (self.holdtime * 3 + hold_seconds) // 4
        if hold_seconds <= self.service_level:
            self.completed_in_sl += 1

    def record_talk(self, talk_seconds: int) -> None:
        self.completed += 1
        self.talktime = (self.talktime * 3 + talk_seconds) // 4

    def params_item(self) -> Fields:
        answered_and_abandoned = self.completed + self.abandoned
        perf = 100.0 * self.completed_in_sl / self.completed if self.completed else 0.0
        perf2 = (
            100.0 * self.completed_in_sl / answered_and_abandoned if answered_and_abandoned else 0.0
        )
        return [
            ("Queue", self.name),
            ("Max", "0"),
            ("Strategy", self.strategy),
            ("Calls", str(len(self.entries))),
            ("Holdtime", str(self.holdtime)),
            ("TalkTime", str(self.talktime)),
            ("Completed", str(self.completed)),
            ("Abandoned", str(self.abandoned)),
            ("ServiceLevel", str(self.service_level)),
            ("ServicelevelPerf", f"{perf:.1f}"),
            ("ServicelevelPerf2", f"{perf2:.1f}"),
            ("Weight", str(self.weight)),
        ]

    def entry_items(self, now_usec: int) -> list[Fields]:
        items: list[Fields] = []
        for position, entry in enumerate(self.entries, start=1):
            channel = entry.channel
            items.append(
                [
                    ("Queue", self.name),
                    ("Position", str(position)),
                    ("Channel", channel.name),
                    ("Uniqueid", channel.uniqueid),
                    # QueueEntry prints the bare word "unknown" (docs/ami.md §3.3).
                    ("CallerIDNum", channel.caller_num or "unknown"),
                    ("CallerIDName", channel.caller_name or "unknown"),
                    ("ConnectedLineNum", channel.connected_num or "unknown"),
                    ("ConnectedLineName", channel.connected_name or "unknown"),
                    ("Wait", str((now_usec - entry.joined_usec) // 1_000_000)),
                    ("Priority", "0"),
                ]
            )
        return items

    def summary_item(self, statuses: dict[str, DeviceState], now_usec: int) -> Fields:
        logged_in = available = 0
        for member in self.members.values():
            status = statuses.get(member.state_interface, DeviceState.NOT_INUSE)
            if status not in (DeviceState.UNAVAILABLE, DeviceState.INVALID):
                logged_in += 1
                if not member.paused and status == DeviceState.NOT_INUSE:
                    available += 1
        longest = max(((now_usec - e.joined_usec) // 1_000_000 for e in self.entries), default=0)
        return [
            ("Queue", self.name),
            ("LoggedIn", str(logged_in)),
            ("Available", str(available)),
            ("Callers", str(len(self.entries))),
            ("HoldTime", str(self.holdtime)),
            ("TalkTime", str(self.talktime)),
            ("LongestHoldTime", str(longest)),
        ]
