"""Which calls are on an agent's screen, in what situation, with which screen pop.

A call is on agent A's screen while it is live and A is rung for it (a live offer: an
``agent.called`` entry with no later end), talks on it, or answered it first
(``call.agent``); after it ends, while A answered it and has not set a disposition
(wrap-up), for ``REALTIME_WRAPUP_WINDOW_SECONDS`` and at most ``WRAPUP_LIMIT`` calls.
The snapshot and the published events both come from ``screen_frames``; the screen
pop comes from ``realtime.screens.pop``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery

from config.db import roundtrips
from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Agent, Call, CallEvent, Membership, User
from contactcenter.transitions import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES
from realtime import messages as ev
from realtime.screens import pop, render

WRAPUP_LIMIT = 20

# How each timeline entry moves the part of the agent it names.
_LEG_MOVES: dict[str, ev.Leg] = {
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
class Frame:
    agent_id: int
    type: str  # a CallFrameType, or "call.removed"
    data: ev.CallFrameData | ev.CallRemovedData


def with_last_entry(calls: QuerySet[Call]) -> QuerySet[Call]:
    """Calls with the type of their latest timeline entry (names the frame)."""
    latest = CallEvent.objects.filter(call=OuterRef("pk")).order_by("-occurred_at", "-id")
    return calls.annotate(last_entry=Subquery(latest.values("type")[:1])).select_related(
        "organization"
    )


# A timeline entry that names an agent: (call id, agent id, entry type).
AgentEntry = tuple[int, int, str]


def agent_entries(
    call_ids: Iterable[int], agent_ids: Iterable[int] | None = None
) -> list[AgentEntry]:
    """The calls' timeline entries that name an agent (of ``agent_ids``, or any), in
    timeline order per call: one query, from which both ``named_agents`` and ``legs``
    work."""
    (rows,) = roundtrips.read_together(agent_entries_read(call_ids, agent_ids))
    return rows


def agent_entries_read(
    call_ids: Iterable[int], agent_ids: Iterable[int] | None = None
) -> roundtrips.Read:
    """The read behind ``agent_entries`` (for ``config.db.roundtrips``)."""
    if agent_ids is None:
        return _AGENT_ENTRIES(list(call_ids))
    return _ENTRIES_OF_AGENTS(list(call_ids), list(agent_ids))


def _entries(calls: list[int]) -> QuerySet[CallEvent, AgentEntry]:
    rows = CallEvent.objects.filter(call_id__any=calls, agent_id__isnull=False)
    return rows.order_by("call_id", "occurred_at", "id").values_list("call_id", "agent_id", "type")


# Planned for its ids each time: its generic plan was slower than a plan made for the ids
# (docs/benchmarks.md: the figures the code's comments rest on).
_AGENT_ENTRIES = roundtrips.Shape(_entries, prepared=False)
_ENTRIES_OF_AGENTS = roundtrips.Shape(
    lambda calls, agents: _entries(calls).filter(agent_id__any=agents)
)


def legs(entries: Iterable[AgentEntry], agent_ids: Iterable[int]) -> dict[tuple[int, int], ev.Leg]:
    """Each agent's part in each call, from the timeline entries that name them."""
    wanted = set(agent_ids)
    found: dict[tuple[int, int], ev.Leg] = {}
    for call_id, agent_id, type_ in entries:
        move = _LEG_MOVES.get(type_)
        if move is not None and agent_id in wanted:
            found[(call_id, agent_id)] = move
    return found


def _settled_leg(call: Call, agent_id: int, leg: ev.Leg) -> ev.Leg:
    # An offer the PBX never closed is over once the call ended or someone else took it.
    if leg == "offered" and (
        call.status in TERMINAL_CALL_STATUSES
        or (call.answered_at is not None and call.agent_id != agent_id)
    ):
        return "none"
    return leg


def on_screen(call: Call, agent_id: int, leg: ev.Leg, now: datetime) -> bool:
    if call.status in ACTIVE_CALL_STATUSES:
        return leg in ("offered", "connected") or call.agent_id == agent_id
    window = timedelta(seconds=settings.REALTIME_WRAPUP_WINDOW_SECONDS)
    return (
        call.agent_id == agent_id
        and call.disposition_id is None
        and call.ended_at is not None
        and call.ended_at >= now - window
    )


def frame_type(call: Call, leg: ev.Leg) -> ev.CallFrameType:
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


def related_read(organization_id: int, changed: Sequence[Call], now: datetime) -> roundtrips.Read:
    """Other calls of the same customers that may be on a screen: their pops list the
    changed calls among the customer's last calls, so they are sent again (``None``
    when the calls have no customer number)."""
    numbers = pop.customer_numbers(changed)
    if not numbers:
        return None
    since = now - timedelta(seconds=settings.REALTIME_WRAPUP_WINDOW_SECONDS)
    return _RELATED_CALLS(organization_id, list(numbers), since, [c.pk for c in changed])


def _shown_calls(
    organization_id: int, numbers: list[str], since: datetime, changed: list[int]
) -> QuerySet[Call]:
    shown = Q(status__in=ACTIVE_CALL_STATUSES) | Q(disposition__isnull=True, ended_at__gte=since)
    return (
        Call.objects.for_organization(organization_id)
        .filter(pop.same_customer(numbers))
        .filter(shown)
        .exclude(pk__any=changed)
    )


_RELATED_CALLS = roundtrips.Shape(
    lambda *args: with_last_entry(_shown_calls(*args)).order_by("started_at", "id")
)


def named_agents(calls: Sequence[Call], entries: Iterable[AgentEntry]) -> set[int]:
    """The agents ``calls`` name (``entries`` of their timeline, or ``call.agent``): the
    only ones whose screens may hear about them."""
    named = {agent_id for _, agent_id, _ in entries}
    return named | {c.agent_id for c in calls if c.agent_id is not None}


WITH_MEMBERSHIP = "user__membership__organization"
"""Agents read with this ``select_related`` bring their memberships (``memberships_of``)."""


def memberships_of(agents: Iterable[Agent]) -> dict[int, Membership]:
    """Each agent's user's membership, by agent id (decides what their pop may show):
    no query when the agents were read with ``WITH_MEMBERSHIP``."""
    agents = list(agents)
    if agents and all(_membership_loaded(a) for a in agents):
        return {a.pk: m for a in agents if (m := _loaded_membership(a)) is not None}
    by_user = {a.user_id: a.pk for a in agents if a.user_id is not None}
    rows = Membership.objects.filter(user_id__in=list(by_user)).select_related("organization")
    return {by_user[m.user_id]: m for m in rows}


def _membership_loaded(agent: Agent) -> bool:
    if agent.user_id is None:
        return True
    if not Agent.user.is_cached(agent):
        return False
    return agent.user is not None and User.membership.is_cached(agent.user)


def _loaded_membership(agent: Agent) -> Membership | None:
    if agent.user is None:
        return None
    try:
        return agent.user.membership
    except Membership.DoesNotExist:
        return None


def screen_frames(
    *,
    calls: Sequence[Call],
    agents: Sequence[Agent],
    now: datetime,
    forced_type: ev.CallFrameType | None = None,
    only_on_screen: bool = False,
    entries: Sequence[AgentEntry] | None = None,
    memberships: dict[int, Membership] | None = None,
    pops: pop.PopBuilder | None = None,
) -> list[Frame]:
    """One frame per (call, agent) that the agent's screen should hear about.

    ``calls`` come from ``with_last_entry``. Agents are told about every call they
    are or were part of: a call that is not (or no longer) on their screen is a
    ``call.removed`` frame, which consoles that never showed it drop. A caller that
    already read the calls' ``agent_entries`` or the agents' ``memberships_of``, or holds
    their ``PopBuilder``, passes them, and they are not read again.
    """
    by_id = {a.pk: a for a in agents}
    if entries is None:
        entries = agent_entries([c.pk for c in calls], by_id)
    leg_of = legs(entries, by_id)
    if memberships is None:
        memberships = memberships_of(agents)
    if pops is None:
        pops = pop.PopBuilder(calls, agents)
    frames: list[Frame] = []
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
                    removed = ev.CallRemovedData(call_id=call.pk)
                    frames.append(Frame(agent_id, "call.removed", removed))
                continue
            data = ev.CallFrameData(
                call=render.call_view(call),
                leg=leg,
                pop=pops.pop(call, agent, memberships.get(agent_id)),
            )
            frames.append(Frame(agent_id, forced_type or frame_type(call, leg), data))
    return frames


def screen_calls(agent: Agent, now: datetime) -> list[Call]:
    """The calls that may be on ``agent``'s screen (the snapshot filters them further)."""
    scope = Call.objects.for_organization(agent.organization_id)
    named = CallEvent.objects.filter(agent=agent, call__status__in=ACTIVE_CALL_STATUSES).values(
        "call_id"
    )
    live = scope.filter(status__in=ACTIVE_CALL_STATUSES).filter(Q(agent=agent) | Q(pk__in=named))
    window = timedelta(seconds=settings.REALTIME_WRAPUP_WINDOW_SECONDS)
    wrap_up = scope.filter(
        agent=agent,
        status__in=TERMINAL_CALL_STATUSES,
        disposition__isnull=True,
        ended_at__gte=now - window,
    ).order_by("-ended_at", "-id")[:WRAPUP_LIMIT]
    ids = set(live.values_list("pk", flat=True)) | set(wrap_up.values_list("pk", flat=True))
    return list(with_last_entry(scope.filter(pk__in=ids)).order_by("started_at", "id"))
