"""Queue member events (app_queue) as agent facts. No state: each event says it all."""

from __future__ import annotations

from datetime import datetime

from contactcenter import facts as te
from telephony.ami.fields import DEVICE_STATES, Fields, flag, integer, text


def member_interface(msg: Fields) -> str:
    # Interface (QueueStatus says Location) is the member; StateInterface is the device
    # whose state app_queue follows. For PJSIP members they are the same.
    return text(msg, "Interface") or text(msg, "Location") or text(msg, "StateInterface")


def _reason(msg: Fields) -> str:
    return text(msg, "PausedReason") or text(msg, "Reason")


def member_state(msg: Fields, at: datetime) -> te.AgentMemberState:
    """QueueMemberStatus, or a QueueMember item of a QueueStatus reply."""
    return te.AgentMemberState(
        agent=member_interface(msg),
        queue=text(msg, "Queue"),
        at=at,
        device=DEVICE_STATES.get(text(msg, "Status"), "unknown"),  # type: ignore[arg-type]
        in_call=flag(msg, "InCall"),
        paused=flag(msg, "Paused"),
        paused_reason=_reason(msg),
        calls_taken=integer(msg, "CallsTaken"),
        member_name=text(msg, "MemberName") or text(msg, "Name"),
    )


def member_pause(msg: Fields, at: datetime) -> te.AgentPauseChanged:
    return te.AgentPauseChanged(
        agent=member_interface(msg),
        queue=text(msg, "Queue"),
        at=at,
        paused=flag(msg, "Paused"),
        reason=_reason(msg),
    )


def member_added(msg: Fields, at: datetime) -> te.AgentMembershipChanged:
    return te.AgentMembershipChanged(
        agent=member_interface(msg),
        queue=text(msg, "Queue"),
        at=at,
        member=True,
        member_name=text(msg, "MemberName"),
        paused=flag(msg, "Paused"),
        paused_reason=_reason(msg),
        calls_taken=integer(msg, "CallsTaken") or 0,
    )


def member_removed(msg: Fields, at: datetime) -> te.AgentMembershipChanged:
    return te.AgentMembershipChanged(
        agent=member_interface(msg),
        queue=text(msg, "Queue"),
        at=at,
        member=False,
        member_name=text(msg, "MemberName"),
    )
