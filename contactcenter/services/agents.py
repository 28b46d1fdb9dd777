"""Agent state changes: the one way an agent's state moves, with its log."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contactcenter import ports, publish
from contactcenter.enums import AgentState
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, AgentStateLog, QueueMembership
from contactcenter.services import audit
from contactcenter.transitions import (
    AGENT_PHONE_STATES,
    AGENT_SELECTABLE_STATES,
    AGENT_STATES_REQUIRING_REASON,
    AGENT_WRAP_UP_PAUSE_REASON,
    agent_moves,
)


@transaction.atomic
def agent_set_state(
    *, agent: Agent, state: str, reason: str = "", at: datetime | None = None
) -> Agent:
    """Move ``agent`` to ``state`` and log the interval it leaves.

    Idempotent: the same state and reason again changes nothing. A change stamped
    earlier than the current state's start (a late event) is ignored, so the log never
    has overlapping or negative intervals. After commit: ``agent.state`` to the agent's
    consoles and fresh figures for their queues (contactcenter.publish).
    """
    if state not in AgentState.values:
        raise ApplicationError(f"Unknown agent state {state!r}.", field="state")
    at = at or timezone.now()
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    if not agent_moves(locked, state, reason, at):
        return locked
    before, reason_before = locked.state, locked.state_reason
    AgentStateLog.objects.filter(agent=locked, ended_at__isnull=True).update(ended_at=at)
    AgentStateLog.objects.create(
        organization_id=locked.organization_id,
        agent=locked,
        state=state,
        reason=reason,
        started_at=at,
    )
    locked.state = state
    locked.state_reason = reason
    locked.state_changed_at = at
    audit.record(
        action="state_change",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"state": [before, state], "state_reason": [reason_before, reason]},
    )
    locked.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
    publish.agent_state_changed(organization_id=locked.organization_id, agent_id=locked.pk)
    if state == AgentState.AVAILABLE:
        ports.agent_free(locked.organization_id)
    elif state in (AgentState.PAUSED, AgentState.OFFLINE):
        # The last member who could take a call may be gone: a leave-when-empty queue's
        # callers leave (Twilio's queues, which we route ourselves).
        ports.agent_free(locked.organization_id)
    return locked


@transaction.atomic
def agent_choose_state(*, agent: Agent, state: str, reason: str = "") -> Agent:
    """A state the agent (or a supervisor) picks by hand, as opposed to one the PBX reports.

    While the agent's phone rings or is on a call (AGENT_PHONE_STATES), the phone's state
    stays, with its start: the choice is for after the call, which the PBX's queue pause
    carries (the caller sends it; where no PBX keeps pauses, Twilio's, the memberships
    keep it here: ``_keep_in_queues``), and the agent returned says what the state still is.
    Offline cannot wait for the call's end (the PBX knows nothing of it), so it is
    refused then. (Taking the choice at once showed "available" for an instant, until
    the PBX's next report put "on call" back with a fresh start: the console's badge
    timer restarted in the middle of the call.)
    """
    if state not in AGENT_SELECTABLE_STATES:
        allowed = ", ".join(sorted(AGENT_SELECTABLE_STATES))
        raise ApplicationError(f"Choose one of: {allowed}.", field="state")
    if state in AGENT_STATES_REQUIRING_REASON and not reason.strip():
        raise ApplicationError("A pause needs a reason.", field="reason")
    if state not in AGENT_STATES_REQUIRING_REASON:
        reason = ""
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    if locked.state in AGENT_PHONE_STATES and state == AgentState.OFFLINE:
        raise ApplicationError(
            "You are on a call: go offline once it has ended.",
            code="on_call",
            status=409,
            field="state",
        )
    kept = not _pbx_keeps_pauses(locked)
    if kept:
        _keep_in_queues(locked, state, reason.strip())
    if locked.state in AGENT_PHONE_STATES:
        if kept:  # the choice is written now, for after the call: audited as such
            audit.record(
                action="state_choice",
                organization_id=locked.organization_id,
                obj=locked,
                details={"state": state, "reason": reason.strip(), "after_call": True},
            )
        return locked
    return agent_set_state(agent=locked, state=state, reason=reason.strip())


def _pbx_keeps_pauses(agent: Agent) -> bool:
    """Whether the agent's pauses are the PBX's to keep (Asterisk's queues, told by the
    console and the supervisor's commands, report them back)."""
    port = ports.telephony()
    return (
        bool(agent.interface)
        and port is not None
        and port.command_connection(agent.organization_id) is not None
    )


def _keep_in_queues(agent: Agent, state: str, reason: str) -> None:
    """Where no PBX keeps queue pauses (Twilio's queues, which we route ourselves), the
    choice is kept in the agent's memberships as app_queue would keep it: paused (with
    the reason, or wrap-up's) or not. What the agent is once a call is over is derived
    from them, as for an Asterisk agent; a choice made during the call is for after it.
    Offline changes no membership."""
    memberships = QueueMembership.objects.filter(agent=agent)
    if state == AgentState.AVAILABLE:
        memberships.filter(paused=True).update(paused=False, paused_reason="", paused_at=None)
    elif state in (AgentState.PAUSED, AgentState.WRAP_UP):
        reason = AGENT_WRAP_UP_PAUSE_REASON if state == AgentState.WRAP_UP else reason
        memberships.filter(paused=False).update(paused_at=timezone.now())
        memberships.update(paused=True, paused_reason=reason[:64])
