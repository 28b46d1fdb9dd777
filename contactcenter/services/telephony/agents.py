"""Agent and queue-member state from the PBX.

Pause is per queue (as in app_queue); the agent's one state is derived from the
phone's device state and the memberships: a ringing or busy phone wins, then
"paused" when paused in every queue the agent is logged in to ("wrap-up" when the
console's wrap-up pause is the only reason), "offline" when logged
in nowhere or the phone is unreachable, else "available" (or "wrap-up" while the PBX
holds the agent after a call: ``wrap_up_until``). Each change goes through
the same rules as agent_set_state (no going back in time; one interval per change), in
bulk, so time in state is logged at the PBX's timestamps.

Agents are named as the PBX names them: an AMI interface (``PJSIP/1001``), or a Twilio
client (``client:agent-7``), whose phone reports name no queue.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery

from config.db import roundtrips
from contactcenter import facts as te
from contactcenter.enums import AgentState
from contactcenter.models import Agent, AgentStateLog, QueueMembership
from contactcenter.services.telephony import bulk
from contactcenter.services.telephony.calls import Lookups
from contactcenter.transitions import (
    AGENT_AFTER_CALL_REASON,
    AGENT_PHONE_STATES,
    AGENT_WRAP_UP_PAUSE_REASON,
    agent_moves,
)

_AGENT_FIELDS = ("state", "state_reason", "state_changed_at", "device_state")
_MEMBERSHIP_FIELDS = ("is_logged_in", "paused", "paused_reason", "paused_at", "calls_taken")
_RINGING = {"ringing", "ring_in_use"}
_ON_CALL = {"in_use", "busy", "on_hold"}
_UNREACHABLE = {"unavailable", "invalid"}


@dataclass
class AgentApplyResult:
    agent_ids: set[int] = field(default_factory=set)
    queue_ids: set[int] = field(default_factory=set)
    # (agent, fields before, fields after) of each agent the batch changed: the audit's.
    changes: list[tuple[Agent, dict[str, object], dict[str, object]]] = field(default_factory=list)


def derive_agent_state(device: str, memberships: Sequence[QueueMembership]) -> tuple[str, str]:
    """(state, reason) of an agent from their phone and their queue memberships."""
    if device in _RINGING:
        return AgentState.RINGING, ""
    if device in _ON_CALL:
        return AgentState.ON_CALL, ""
    logged_in = [m for m in memberships if m.is_logged_in]
    if not logged_in or device in _UNREACHABLE:
        return AgentState.OFFLINE, ""
    if all(m.paused for m in logged_in):
        reasons = sorted({m.paused_reason for m in logged_in if m.paused_reason})
        if reasons == [AGENT_WRAP_UP_PAUSE_REASON]:
            # The console's wrap-up, kept by the PBX as a pause (it offers no call then).
            return AgentState.WRAP_UP, ""
        return AgentState.PAUSED, ", ".join(reasons)
    return AgentState.AVAILABLE, ""


def _phone_state(device: str) -> tuple[str, str] | None:
    if device in _RINGING:
        return AgentState.RINGING, ""
    if device in _ON_CALL:
        return AgentState.ON_CALL, ""
    return None


class _BeforePhone:
    """The state an agent in no queue was in before their phone's current ring or call
    (their state as it is, when the phone is not ringing nor on a call). The state log
    is read the first time it is needed in a batch, for every agent of the batch in no
    queue at once (``pks``); an agent in a queue never needs it: their memberships say
    their state."""

    def __init__(self, organization_id: int, pks: Collection[int]) -> None:
        self.organization_id = organization_id
        self.pks = pks
        self._read: dict[int, tuple[str, str]] | None = None

    def __call__(self, agent: Agent) -> tuple[str, str]:
        if agent.state not in AGENT_PHONE_STATES:
            return agent.state, agent.state_reason
        if self._read is None:
            self._read = _last_before_phone(self.organization_id, self.pks)
        return self._read.get(agent.pk, (AgentState.AVAILABLE, ""))


def _last_before_phone(organization_id: int, pks: Collection[int]) -> dict[int, tuple[str, str]]:
    """Each agent's last interval in a state of their own (not ringing nor on a call),
    as stored before the batch: (state, reason) by agent id; none for an agent with no
    such interval."""
    last = (
        AgentStateLog.objects.filter(agent=OuterRef("pk"))
        .exclude(state__in=AGENT_PHONE_STATES)
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    rows = (
        AgentStateLog.objects.filter(
            organization_id=organization_id,
            pk__in=Agent.objects.filter(organization_id=organization_id, pk__in=pks)
            .annotate(last=Subquery(last))
            .values("last"),
        )
        .order_by()
        .values_list("agent_id", "state", "reason")
    )
    return {agent_id: (state, reason) for agent_id, state, reason in rows}


def _membership(
    agent: Agent, queue_id: int, memberships: dict[int, dict[int, QueueMembership]]
) -> QueueMembership:
    own = memberships.setdefault(agent.pk, {})
    if queue_id not in own:
        own[queue_id] = QueueMembership(
            organization_id=agent.organization_id, agent=agent, queue_id=queue_id
        )
    return own[queue_id]


def _set_pause(membership: QueueMembership, paused: bool, reason: str, at: datetime) -> None:
    if paused and not membership.paused:
        membership.paused_at = at
    if not paused:
        membership.paused_at = None
    membership.paused = paused
    membership.paused_reason = reason if paused else ""


def _apply_membership(fact: te.AgentFact, membership: QueueMembership) -> None:
    if isinstance(fact, te.AgentMembershipChanged):
        membership.is_logged_in = fact.member
        if fact.member:
            membership.calls_taken = fact.calls_taken
            _set_pause(membership, fact.paused, fact.paused_reason, fact.at)
    elif isinstance(fact, te.AgentPauseChanged):
        _set_pause(membership, fact.paused, fact.reason, fact.at)
    else:
        membership.is_logged_in = fact.logged_in
        _set_pause(membership, fact.paused, fact.paused_reason, fact.at)
        if fact.calls_taken is not None:
            membership.calls_taken = fact.calls_taken


@dataclass
class _Moves:
    """An agent's state changes within one batch, written in bulk at the end."""

    agent: Agent
    intervals: list[AgentStateLog] = field(default_factory=list)

    def move(self, state: str, reason: str, at: datetime) -> None:
        agent = self.agent
        if not agent_moves(agent, state, reason, at):
            return
        if self.intervals:
            self.intervals[-1].ended_at = at
        self.intervals.append(
            AgentStateLog(
                organization_id=agent.organization_id,
                agent=agent,
                state=state,
                reason=reason,
                started_at=at,
            )
        )
        agent.state, agent.state_reason, agent.state_changed_at = state, reason, at


_LOCKED_AGENTS = roundtrips.Shape(
    lambda organization_id, pks: (
        Agent.objects.select_for_update()
        .filter(organization_id=organization_id, pk__any=pks)
        .order_by("pk")
    )
)
_MEMBERSHIPS = roundtrips.Shape(
    lambda organization_id, pks: QueueMembership.objects.for_organization(organization_id).filter(
        agent__organization_id=organization_id, agent_id__any=pks
    )
)


def apply_agent_facts(
    *, organization_id: int, lookups: Lookups, facts: Sequence[te.AgentFact]
) -> AgentApplyResult:
    """Apply a batch of agent facts with a few bulk statements.

    The agents are locked (as agent_set_state does) so a console's state change and
    the PBX's cannot interleave; each change is logged at the PBX's timestamp.
    """
    result = AgentApplyResult()
    named = {f.agent: lookups.agent(f.agent) for f in facts}
    pks = sorted({agent.pk for agent in named.values() if agent is not None})
    if not pks:
        return result
    # The agents locked, then their memberships, in one round trip (with the batch's
    # call writes ahead of them).
    locked, rows = roundtrips.read_together(
        _LOCKED_AGENTS(organization_id, pks), _MEMBERSHIPS(organization_id, pks)
    )
    agents = {a.pk: a for a in locked}
    by_name = {
        name: agents[agent.pk]
        for name, agent in named.items()
        if agent is not None and agent.pk in agents
    }
    memberships: dict[int, dict[int, QueueMembership]] = {}
    for m in rows:
        memberships.setdefault(m.agent_id, {})[m.queue_id] = m
    loaded = _Loaded(agents.values(), memberships)
    # Memberships only grow in a batch: the agents in none now are all that may need it.
    before_phone = _BeforePhone(organization_id, [pk for pk in agents if pk not in memberships])
    moves: dict[int, _Moves] = {}
    for fact in facts:
        agent = by_name.get(fact.agent)
        if agent is None:
            continue  # a name we do not know: not one of this organization's agents
        queue = lookups.queue(fact.queue)
        if queue is not None:
            _apply_membership(fact, _membership(agent, queue.pk, memberships))
            result.queue_ids.add(queue.pk)
        if isinstance(fact, te.AgentMemberState):
            agent.device_state = fact.device
        own = list(memberships.get(agent.pk, {}).values())
        if not own and not fact.queue:
            # A phone's own report (Twilio's) of an agent in no queue: their memberships
            # cannot say what they are once it is idle; the state they had before it
            # rang does.
            state, reason = _phone_state(agent.device_state) or before_phone(agent)
        else:
            state, reason = derive_agent_state(agent.device_state, own)
        if (
            isinstance(fact, te.AgentMemberState)
            and state == AgentState.AVAILABLE
            and fact.wrap_up_until is not None
            and fact.at < fact.wrap_up_until
        ):
            state, reason = AgentState.WRAP_UP, AGENT_AFTER_CALL_REASON
        moves.setdefault(agent.pk, _Moves(agent)).move(state, reason, fact.at)
    changed = [m.agent for m in moves.values() if loaded.agent_changed(m.agent)]
    _write(moves, changed, memberships, loaded)
    # Only a changed agent is published (agent.state); their queues' figures are, anyway.
    result.agent_ids = {agent.pk for agent in changed}
    result.changes = [
        (
            agent,
            dict(zip(_AGENT_FIELDS, loaded.agents.get(agent.pk, ()), strict=False)),
            dict(zip(_AGENT_FIELDS, _fields(agent, _AGENT_FIELDS), strict=True)),
        )
        for agent in changed
    ]
    return result


class _Loaded:
    """The agents' and memberships' fields as read: only rows that changed are written
    (a phone's ring changes the agent, rarely their memberships)."""

    def __init__(
        self, agents: Iterable[Agent], memberships: dict[int, dict[int, QueueMembership]]
    ) -> None:
        self.agents = {a.pk: _fields(a, _AGENT_FIELDS) for a in agents}
        self.memberships = {
            m.pk: _fields(m, _MEMBERSHIP_FIELDS)
            for own in memberships.values()
            for m in own.values()
        }

    def agent_changed(self, agent: Agent) -> bool:
        return self.agents.get(agent.pk) != _fields(agent, _AGENT_FIELDS)

    def membership_changed(self, membership: QueueMembership) -> bool:
        return self.memberships.get(membership.pk) != _fields(membership, _MEMBERSHIP_FIELDS)


def _fields(row: Agent | QueueMembership, names: Sequence[str]) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in names)


def _write(
    moves: dict[int, _Moves],
    changed: list[Agent],
    memberships: dict[int, dict[int, QueueMembership]],
    loaded: _Loaded,
) -> None:
    moved = {pk: m for pk, m in moves.items() if m.intervals}
    # The interval open before this batch ends where the batch's first change starts.
    bulk.open_intervals_end({pk: m.intervals[0].started_at for pk, m in moved.items()})
    bulk.rows_insert(AgentStateLog, [row for m in moved.values() for row in m.intervals])
    bulk.rows_update(Agent, changed, _AGENT_FIELDS)
    every = [m for own in memberships.values() for m in own.values()]
    # Which stored rows changed is decided before the new ones get their ids.
    old = [m for m in every if m.pk is not None and loaded.membership_changed(m)]
    bulk.rows_update(QueueMembership, old, _MEMBERSHIP_FIELDS)
    QueueMembership.objects.bulk_create([m for m in every if m.pk is None])
