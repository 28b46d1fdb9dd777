"""Agent and queue-member state from the PBX.

Pause is per queue (as in app_queue); the agent's one state is derived from the
phone's device state and the memberships: a ringing or busy phone wins, then
"paused" when paused in every queue the agent is logged in to, "offline" when logged
in nowhere or the phone is unreachable, else "available". Each change goes through
agent_set_state, so time in state is logged at the PBX's timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contactcenter import telephony_events as te
from contactcenter.enums import AgentState
from contactcenter.models import Agent, QueueMembership
from contactcenter.services.agents import agent_set_state
from contactcenter.services.telephony.calls import Lookups

_RINGING = {"ringing", "ring_in_use"}
_ON_CALL = {"in_use", "busy", "on_hold"}
_UNREACHABLE = {"unavailable", "invalid"}


@dataclass
class AgentApplyResult:
    agent_ids: set[int] = field(default_factory=set)
    queue_ids: set[int] = field(default_factory=set)


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
        return AgentState.PAUSED, ", ".join(reasons)
    return AgentState.AVAILABLE, ""


def _membership(
    agent: Agent, queue_id: int, memberships: dict[tuple[int, int], QueueMembership]
) -> QueueMembership:
    key = (agent.pk, queue_id)
    if key not in memberships:
        memberships[key] = QueueMembership(
            organization_id=agent.organization_id, agent=agent, queue_id=queue_id
        )
    return memberships[key]


def _set_pause(membership: QueueMembership, paused: bool, reason: str, at: datetime) -> None:
    if paused and not membership.paused:
        membership.paused_at = at
    if not paused:
        membership.paused_at = None
    membership.paused = paused
    membership.paused_reason = reason if paused else ""


def apply_agent_facts(
    *, organization_id: int, lookups: Lookups, facts: Sequence[te.AgentFact]
) -> AgentApplyResult:
    result = AgentApplyResult()
    if not facts:
        return result
    agent_ids = {a.pk for f in facts if (a := lookups.agent(f.agent))}
    memberships = {
        (m.agent_id, m.queue_id): m
        for m in QueueMembership.objects.for_organization(organization_id).filter(
            agent_id__in=agent_ids
        )
    }
    touched: dict[int, Agent] = {}
    for fact in facts:
        agent = lookups.agent(fact.agent)
        queue = lookups.queue(fact.queue)
        if agent is None:
            continue  # an interface we do not know: not one of this organization's agents
        if queue is not None:
            membership = _membership(agent, queue.pk, memberships)
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
            result.queue_ids.add(queue.pk)
        if isinstance(fact, te.AgentMemberState):
            agent.device_state = fact.device
        own = [m for (a_id, _), m in memberships.items() if a_id == agent.pk]
        state, reason = derive_agent_state(agent.device_state, own)
        updated = agent_set_state(agent=agent, state=state, reason=reason, at=fact.at)
        agent.state, agent.state_reason = updated.state, updated.state_reason
        agent.state_changed_at = updated.state_changed_at
        result.agent_ids.add(agent.pk)
        touched[agent.pk] = agent
    for agent in touched.values():
        Agent.objects.filter(pk=agent.pk).update(device_state=agent.device_state)
    new = [m for m in memberships.values() if m.pk is None]
    old = [m for m in memberships.values() if m.pk is not None]
    QueueMembership.objects.bulk_create(new)
    QueueMembership.objects.bulk_update(
        old, ["is_logged_in", "paused", "paused_reason", "paused_at", "calls_taken"]
    )
    return result
