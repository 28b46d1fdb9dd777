"""The allowed moves of a call and of an agent, as data.

Services consult these tables; nothing else decides whether a status may change.
Out-of-order telephony events are the norm (see docs/ami.md §7.6), so a move
that is not allowed is ignored by the service, not raised: a late ``ringing`` after
``completed`` must never reopen a finished call.
"""

from datetime import datetime
from typing import Any

from contactcenter.enums import AgentState, CallStatus

TERMINAL_CALL_STATUSES: frozenset[str] = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.ABANDONED,
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.FAILED,
        CallStatus.CANCELED,
        CallStatus.CALLBACK,
    }
)

ACTIVE_CALL_STATUSES: frozenset[str] = frozenset(
    {CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.ON_HOLD}
)

_ENDINGS = TERMINAL_CALL_STATUSES
# Once answered, a call can only end as completed (or failed, when the PBX says so).
_ANSWERED_ENDINGS = frozenset({CallStatus.COMPLETED, CallStatus.FAILED})

CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    CallStatus.QUEUED: frozenset({CallStatus.RINGING, CallStatus.IN_PROGRESS}) | _ENDINGS,
    CallStatus.RINGING: frozenset({CallStatus.QUEUED, CallStatus.IN_PROGRESS}) | _ENDINGS,
    CallStatus.IN_PROGRESS: frozenset(
        {CallStatus.ON_HOLD, CallStatus.COMPLETED, CallStatus.FAILED}
    ),
    CallStatus.ON_HOLD: frozenset(
        {CallStatus.IN_PROGRESS, CallStatus.COMPLETED, CallStatus.FAILED}
    ),
    # A terminal status is final.
    **{status: frozenset() for status in TERMINAL_CALL_STATUSES},
}


def call_can_move(current: str, new: str) -> bool:
    return new in CALL_TRANSITIONS.get(current, frozenset())


# Agents may be moved between any two states by the PBX (a device rings whatever the
# console says), but an agent may only *choose* these from the console or the API.
AGENT_SELECTABLE_STATES: frozenset[str] = frozenset(
    {AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP, AgentState.OFFLINE}
)
# Sorted, so the API schema and error messages list them in a stable order.
AGENT_SELECTABLE_CHOICES: list[str] = sorted(AGENT_SELECTABLE_STATES)
AGENT_STATES_REQUIRING_REASON: frozenset[str] = frozenset({AgentState.PAUSED})
# The states the phone decides: while the agent's phone rings or is on a call, a state
# picked by hand does not replace them (it takes effect in the PBX's queues, for after
# the call; docs/console.md, "State").
AGENT_PHONE_STATES: frozenset[str] = frozenset({AgentState.RINGING, AgentState.ON_CALL})
# Wrap-up pauses the agent in their queues (so the PBX offers no call) with this reason;
# a pause with this reason alone in every queue reads back as wrap-up, not "paused".
AGENT_WRAP_UP_PAUSE_REASON = "wrap-up"
# The wrap-up a queue's wrap-up time imposes after a call, where we route the calls
# ourselves (Twilio): it ends by itself when that time is over, unlike one chosen.
AGENT_AFTER_CALL_REASON = "after call"


def agent_moves(agent: Any, state: str, reason: str, at: datetime) -> bool:
    """Whether ``agent`` (its state, reason, state_changed_at) moves to (state, reason) at
    ``at``: not when nothing changes, and not for a change stamped before the current
    state began (a late report must not rewrite what came after it)."""
    if (agent.state, agent.state_reason) == (state, reason):
        return False
    return agent.state_changed_at is None or at >= agent.state_changed_at
