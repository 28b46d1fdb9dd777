"""Which calls are on an agent's screen, in what situation, with which screen pop.

A call is on agent A's screen while it is live and A is rung for it (a live offer: an
``agent.called`` entry with no later end), talks on it, or answered it first
(``call.agent``); after it ends, while A answered it and has not set a disposition
(wrap-up), for ``REALTIME_WRAPUP_WINDOW_SECONDS`` (``wrapped_up_since``) and at most
``WRAPUP_LIMIT`` calls (``contactcenter.selectors.screen_calls``).
The snapshot and the published changes both come from ``call_changes``; the screen
pop comes from ``realtime.screens.pop``; the reads are contactcenter's
(``contactcenter.selectors.screen_calls``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Agent, Call, Membership
from contactcenter.selectors.screen_calls import AgentEntry, agent_entries, memberships_of
from contactcenter.transitions import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES
from realtime import messages as msgs
from realtime.screens import pop, render

# How each timeline entry moves the part of the agent it names.
_LEG_MOVES: dict[str, msgs.Leg] = {
    CallEventType.AGENT_CALLED: "offered",
    CallEventType.AGENT_RING_NO_ANSWER: "none",
    CallEventType.AGENT_OFFER_ENDED: "none",
    CallEventType.ANSWERED: "connected",
    CallEventType.AGENT_CONNECTED: "connected",
    CallEventType.LEG_ADDED: "connected",
    # An outbound call the agent placed names them on its first entry.
    CallEventType.CREATED: "connected",
    CallEventType.RESYNCED: "connected",
    CallEventType.AGENT_COMPLETED: "done",
}
_TRANSFER_ENTRIES = {
    CallEventType.TRANSFER_STARTED,
    CallEventType.TRANSFER_COMPLETED,
    CallEventType.TRANSFER_FAILED,
    CallEventType.LEG_ADDED,
}


@dataclass(frozen=True)
class CallChange:
    agent_id: int
    type: str  # a CallMessageType, or "call.removed"
    data: msgs.CallFrameData | msgs.CallRemovedData


def legs(
    entries: Iterable[AgentEntry], agent_ids: Iterable[int]
) -> dict[tuple[int, int], msgs.Leg]:
    """Each agent's part in each call, from the timeline entries that name them."""
    wanted = set(agent_ids)
    found: dict[tuple[int, int], msgs.Leg] = {}
    for call_id, agent_id, type_ in entries:
        move = _LEG_MOVES.get(type_)
        if move is not None and agent_id in wanted:
            found[(call_id, agent_id)] = move
    return found


def _settled_leg(call: Call, agent_id: int, leg: msgs.Leg) -> msgs.Leg:
    # An offer the PBX never closed is over once the call ended or someone else took it.
    if leg == "offered" and (
        call.status in TERMINAL_CALL_STATUSES
        or (call.answered_at is not None and call.agent_id != agent_id)
    ):
        return "none"
    return leg


def on_screen(call: Call, agent_id: int, leg: msgs.Leg, now: datetime) -> bool:
    if call.status in ACTIVE_CALL_STATUSES:
        return leg in ("offered", "connected") or call.agent_id == agent_id
    return (
        call.agent_id == agent_id
        and call.disposition_id is None
        and call.ended_at is not None
        and call.ended_at >= wrapped_up_since(now)
    )


def change_type(call: Call, leg: msgs.Leg) -> msgs.CallMessageType:
    if leg == "offered":
        return "call.ringing"
    if call.status in TERMINAL_CALL_STATUSES:
        return "call.ended"
    if call.status == CallStatus.ON_HOLD:
        return "call.held"
    if call.status == CallStatus.IN_PROGRESS:
        last = getattr(call, "last_entry", None)
        if last == CallEventType.RESUMED:
            return "call.resumed"
        if last in _TRANSFER_ENTRIES:
            return "call.transferred"
        return "call.answered"
    return "call.updated"


def named_agents(calls: Sequence[Call], entries: Iterable[AgentEntry]) -> set[int]:
    """The agents ``calls`` name (``entries`` of their timeline, or ``call.agent``): the
    only ones whose screens may hear about them."""
    named = {agent_id for _, agent_id, _ in entries}
    return named | {c.agent_id for c in calls if c.agent_id is not None}


def call_changes(
    *,
    calls: Sequence[Call],
    agents: Sequence[Agent],
    now: datetime,
    forced_type: msgs.CallMessageType | None = None,
    only_on_screen: bool = False,
    entries: Sequence[AgentEntry] | None = None,
    memberships: dict[int, Membership] | None = None,
    pops: pop.PopBuilder | None = None,
) -> list[CallChange]:
    """One change per (call, agent) that the agent's screen should hear about.

    ``calls`` come from ``with_last_entry``. Agents are told about every call they
    are or were part of: a call that is not (or no longer) on their screen is a
    ``call.removed`` message, which consoles that never showed it drop. A caller that
    already read the calls' ``agent_entries`` or the agents' ``memberships_of``, or holds
    their ``PopBuilder``, passes them, and they are not read again.
    """
    if not calls:
        return []  # the common snapshot, an agent with no call: none of the reads below
    by_id = {a.pk: a for a in agents}
    if entries is None:
        entries = agent_entries([c.pk for c in calls], by_id)
    leg_of = legs(entries, by_id)
    if memberships is None:
        memberships = memberships_of(agents)
    if pops is None:
        pops = pop.PopBuilder(calls, agents)
    changes: list[CallChange] = []
    involved_in: dict[int, set[int]] = defaultdict(set)
    for call_id, agent_id in leg_of:
        involved_in[call_id].add(agent_id)
    for call in calls:
        involved = involved_in[call.pk]
        if call.agent_id in by_id:
            involved.add(call.agent_id)
        for agent_id in sorted(involved):
            agent = by_id[agent_id]
            leg = _settled_leg(call, agent_id, leg_of.get((call.pk, agent_id), "none"))
            if not on_screen(call, agent_id, leg, now):
                if not only_on_screen:
                    removed = msgs.CallRemovedData(call_id=call.pk)
                    changes.append(CallChange(agent_id, "call.removed", removed))
                continue
            data = msgs.CallFrameData(
                call=render.call_view(call),
                leg=leg,
                pop=pops.pop(call, agent, memberships.get(agent_id)),
            )
            changes.append(CallChange(agent_id, forced_type or change_type(call, leg), data))
    return changes


def wrapped_up_since(now: datetime) -> datetime:
    """The oldest end of a call still on a screen for its wrap-up."""
    return now - timedelta(seconds=settings.REALTIME_WRAPUP_WINDOW_SECONDS)
