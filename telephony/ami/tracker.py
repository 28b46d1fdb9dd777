"""What the translator remembers of the PBX: live channels (legs) and the calls they make.

Rebuilt from scratch by every resync, so nothing here outlives a reconnect unchecked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Leg:
    uniqueid: str
    channel: str
    device: str
    call_key: str
    is_agent: bool
    originated: bool = False  # created by Asterisk towards the device (ChannelState 0)
    up: bool = False
    up_at: datetime | None = None  # Newstate Up: the moment the phone was picked up
    queue_offer: bool = False  # rung by app_queue (AgentCalled), answered via AgentConnect
    offered_to: str = ""  # the agent this leg rings, when it is an offer
    offer_closed: bool = False
    answered: bool = False
    internal: bool = True  # our side (an agent or an extension), not a trunk
    local: bool = False  # a Local/ helper channel that starts a call (Originate to Local)
    held: bool = False  # asked for hold (Hold) and not yet Unhold
    hold_unknown: bool = False  # found live by a resync: whether it holds is not known
    pinned: bool = False  # stays in its call whatever its Linkedid becomes (joined calls)
    transferred: bool = False  # the transferer's leg after its transfer: its hang-up is no party's
    failed_transfer: tuple[str, str] | None = None  # (call, transfer) this target did not take


@dataclass
class CallTrack:
    key: str
    first_leg: str
    legs: set[str] = field(default_factory=set)
    direction: str = "inbound"
    agent: str = ""  # the agent whose phone placed the call (outbound / internal)
    originated: bool = False  # created by an Originate (click-to-dial), not dialled in
    origin_device: str = ""  # the device an Originate rang first (the Channel it was given)
    # The agent's leg an Originate rang first: its answer is not the call's.
    originator_leg: str = ""
    originator_answered: bool = False
    called_out: bool = False  # dialled a trunk
    dialled: str = ""  # the number the call dialled, once an event named it
    queued: bool = False  # joined a queue: its members' phones are app_queue's offers
    internal_origin: bool = False  # the first leg is on our side: calls out are outbound
    answered: bool = False
    hangup_party: str = ""
    last_dial_status: str = ""
    pending_transfer: str = ""  # a blind transfer waiting for its target's answer
    joined_with: set[str] = field(default_factory=set)  # calls an attended transfer joined


@dataclass
class Spy:
    """A supervisor's monitoring leg we originated (ChanSpy): not a call of its own."""

    mode: str
    channel: str = ""
    call_key: str = ""
    phone: str = ""
    agent: str = ""
    started: bool = False
    stopped: bool = False


@dataclass
class Tracker:
    legs: dict[str, Leg] = field(default_factory=dict)
    calls: dict[str, CallTrack] = field(default_factory=dict)
    # An attended transfer folds the consultation call into the customer's.
    merged_into: dict[str, str] = field(default_factory=dict)
    # The target leg of an attended transfer completed while it still rang.
    transfer_targets: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Click-to-calls we asked for, per agent device, oldest first: the number each dials.
    originates: dict[str, deque[str]] = field(default_factory=dict)
    # Monitoring legs we originated, by their Uniqueid (our ChannelId).
    spies: dict[str, Spy] = field(default_factory=dict)
    # Click-to-dials someone else asked for whose agent never answered, by the device the
    # Originate rang: (call, agent). Only the OriginateResponse that follows the Hangup
    # names the number they were to dial.
    unanswered_originates: dict[str, tuple[str, str]] = field(default_factory=dict)

    def resolve(self, call_key: str) -> str:
        seen = set()
        while call_key in self.merged_into and call_key not in seen:
            seen.add(call_key)
            call_key = self.merged_into[call_key]
        return call_key

    def track(self, call_key: str, first_leg: str = "") -> CallTrack:
        if first_leg and first_leg == call_key:
            # A channel starting its own call: no earlier merge can name it. One that does
            # is left from a stream read before (a replay after a reconnect, before its
            # resync's reset): the call starts afresh, as it did then.
            self.merged_into.pop(call_key, None)
        key = self.resolve(call_key)
        track = self.calls.get(key)
        if track is None:
            track = self.calls[key] = CallTrack(key=key, first_leg=first_leg)
        return track

    def attach(self, leg: Leg, call_key: str) -> None:
        """Put ``leg`` in the call ``call_key`` (moving it from another one if needed)."""
        key = self.resolve(call_key)
        if leg.call_key != key and leg.call_key in self.calls:
            self.calls[leg.call_key].legs.discard(leg.uniqueid)
        leg.call_key = key
        self.track(key).legs.add(leg.uniqueid)

    def clear(self) -> None:
        self.legs.clear()
        self.calls.clear()
        self.merged_into.clear()
        self.transfer_targets.clear()
        self.unanswered_originates.clear()
