"""Rebuilding the picture after a (re)connect, from CoreShowChannels and QueueStatus.

The replies say which channels are up, who is bridged with whom, who waits in a queue
and how each queue member stands; they do not say when calls were answered. Calls
found are reported as CallObserved (the unknown times flagged by the domain), every
call we had open and no longer see is closed by ResyncCompleted (docs/ami.md §8).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection
from telephony.ami import members
from telephony.ami.dialing import external_number
from telephony.ami.fields import Fields, device_of, duration, text, uniqueid_epoch
from telephony.ami.tracker import CallTrack, Leg
from telephony.ami.translator import Translator


def snapshot_time(translator: Translator, channels: Sequence[Fields]) -> datetime:
    """The PBX's clock at the snapshot: channel creation (from Uniqueid) plus its Duration.

    Replies carry no Timestamp. Reading the PBX's own clock this way keeps a replayed
    or clock-skewed PBX consistent with its event timestamps; with no channel up, the
    last event's time (or ours) stands in.
    """
    estimates = []
    for channel in channels:
        created = uniqueid_epoch(text(channel, "Uniqueid"))
        lasted = duration(text(channel, "Duration"))
        if created is not None and lasted is not None:
            estimates.append(created + lasted)
    if estimates:
        return max(estimates)
    return translator.last_event_at or translator.clock()


def _leg(translator: Translator, channel: Fields) -> Leg:
    device = device_of(text(channel, "Channel"))
    is_agent = translator.is_agent(device)
    context = text(channel, "Context")
    leg = Leg(
        uniqueid=text(channel, "Uniqueid"),
        channel=text(channel, "Channel"),
        device=device,
        call_key="",
        is_agent=is_agent,
        internal=translator.parties.is_internal(device, context, is_agent=is_agent),
        up=text(channel, "ChannelState") == "6",
        hold_unknown=True,  # a hold begun while we were away ends with an Unhold
    )
    if text(channel, "Application") == "AppQueue":
        leg.queue_offer = True
        leg.offered_to = device
        leg.answered = leg.up
    return leg


def resync_calls(
    translator: Translator, *, channels: Sequence[Fields], connection: str
) -> list[te.Fact]:
    """Reset ``translator`` to the CoreShowChannels snapshot and say what it shows."""
    at = snapshot_time(translator, channels)
    translator.state.clear()
    groups: dict[str, list[Fields]] = defaultdict(list)
    for channel in channels:
        if device_of(text(channel, "Channel")).startswith("Local/"):
            continue
        if translator.spy_leg_live(channel):
            continue  # a supervisor's monitoring leg (spying.py): no call of its own
        groups[text(channel, "Linkedid") or text(channel, "Uniqueid")].append(channel)

    events: list[te.Fact] = []
    for call_key, rows in groups.items():
        legs = {text(row, "Uniqueid"): (row, _leg(translator, row)) for row in rows}
        first_row, first = legs.get(call_key) or min(
            legs.values(), key=lambda pair: pair[1].uniqueid
        )
        track = translator.state.track(call_key, first_leg=first.uniqueid)
        for _, leg in legs.values():
            translator.state.legs[leg.uniqueid] = leg
            translator.state.attach(leg, call_key)
        bridges = [text(row, "BridgeId") for row, _ in legs.values() if text(row, "BridgeId")]
        track.answered = any(bridges.count(b) > 1 for b in bridges)
        exten = text(first_row, "Exten")
        if first.is_agent:
            track.agent = first.device
        if first.internal:
            track.internal_origin = True
            outbound = any(not leg.internal for _, leg in legs.values()) or external_number(exten)
            track.called_out = outbound
            track.direction = CallDirection.OUTBOUND if outbound else CallDirection.INTERNAL
        events.append(_observed(call_key, at, track, first_row, legs))
    events.append(
        te.ResyncCompleted(at=at, live_call_keys=frozenset(groups), connection=connection)
    )
    return events


def resync_agents(*, queue_status: Sequence[Fields], at: datetime) -> list[te.AgentFact]:
    """Every queue member's state from a QueueStatus reply."""
    return [
        members.member_state(item, at)
        for item in queue_status
        if text(item, "Event") == "QueueMember"
    ]


def _observed(
    call_key: str,
    at: datetime,
    track: CallTrack,
    first_row: Fields,
    legs: dict[str, tuple[Fields, Leg]],
) -> te.CallObserved:
    queue = ""
    if text(first_row, "Application") == "Queue":
        queue = text(first_row, "ApplicationData").split(",", 1)[0]
    agent = track.agent
    if track.answered:
        status = "in_progress"
        bridged_agents = [
            leg.device
            for row, leg in legs.values()
            if leg.is_agent and text(row, "BridgeId") and leg.uniqueid != track.first_leg
        ]
        agent = agent or (bridged_agents[0] if bridged_agents else "")
    elif queue:
        status = "queued"
    else:
        status = "ringing"
    return te.CallObserved(
        call_key=call_key,
        at=at,
        dedup_key=f"resync:{call_key}:{at.isoformat()}",
        direction=CallDirection(track.direction),
        status=status,  # type: ignore[arg-type]
        started_at=uniqueid_epoch(track.first_leg),
        caller_number=text(first_row, "CallerIDNum"),
        caller_name=text(first_row, "CallerIDName"),
        callee_number="" if track.agent else text(first_row, "Exten"),
        queue=queue,
        agent=agent,
        # A caller still in the queue has waited about as long as their channel lived.
        wait_seconds=_seconds(text(first_row, "Duration")) if status == "queued" else None,
    )


def _seconds(raw: str) -> int | None:
    lasted = duration(raw)
    return int(lasted.total_seconds()) if lasted is not None else None
