"""Queue member events (app_queue) as agent facts. No state: each event says it all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contactcenter import facts as te
from telephony.ami.fields import DEVICE_STATES, Fields, flag, integer, text

# Channel drivers a Local member's extension may ring, most common first.
_PHONE_TECHS = ("PJSIP", "SIP", "IAX2")


def member_interface(msg: Fields) -> str:
    # Interface (QueueStatus says Location) is the member; StateInterface is the device
    # whose state app_queue follows. For PJSIP members they are the same.
    return text(msg, "Interface") or text(msg, "Location") or text(msg, "StateInterface")


def member_agent(msg: Fields, is_agent: Callable[[str], bool] | None = None) -> str:
    """The member as an agent's interface. A Local member (FreePBX: ``Local/1001@from-
    queue/n``, StateInterface ``PJSIP/1001`` or ``hint:1001@ext-local``) is the phone
    that extension rings: its StateInterface when that is a device, else the agent's
    ``<tech>/<extension>``."""
    interface = member_interface(msg)
    if not interface.startswith("Local/"):
        return interface
    state = text(msg, "StateInterface")
    if state and not state.startswith(("Local/", "hint:")):
        return state
    extension = interface.removeprefix("Local/").split("@", 1)[0]
    if is_agent is not None:
        for tech in _PHONE_TECHS:
            if is_agent(f"{tech}/{extension}"):
                return f"{tech}/{extension}"
    return interface


def _reason(msg: Fields) -> str:
    return text(msg, "PausedReason") or text(msg, "Reason")


def member_state(
    msg: Fields, at: datetime, is_agent: Callable[[str], bool] | None = None
) -> te.AgentMemberState:
    """QueueMemberStatus, or a QueueMember item of a QueueStatus reply."""
    return te.AgentMemberState(
        agent=member_agent(msg, is_agent),
        queue=text(msg, "Queue"),
        at=at,
        device=DEVICE_STATES.get(text(msg, "Status"), "unknown"),  # type: ignore[arg-type]
        in_call=flag(msg, "InCall"),
        paused=flag(msg, "Paused"),
        paused_reason=_reason(msg),
        calls_taken=integer(msg, "CallsTaken"),
        member_name=text(msg, "MemberName") or text(msg, "Name"),
    )


def member_pause(
    msg: Fields, at: datetime, is_agent: Callable[[str], bool] | None = None
) -> te.AgentPauseChanged:
    return te.AgentPauseChanged(
        agent=member_agent(msg, is_agent),
        queue=text(msg, "Queue"),
        at=at,
        paused=flag(msg, "Paused"),
        reason=_reason(msg),
    )


def member_added(
    msg: Fields, at: datetime, is_agent: Callable[[str], bool] | None = None
) -> te.AgentMembershipChanged:
    return te.AgentMembershipChanged(
        agent=member_agent(msg, is_agent),
        queue=text(msg, "Queue"),
        at=at,
        member=True,
        member_name=text(msg, "MemberName"),
        paused=flag(msg, "Paused"),
        paused_reason=_reason(msg),
        calls_taken=integer(msg, "CallsTaken") or 0,
    )


def member_removed(
    msg: Fields, at: datetime, is_agent: Callable[[str], bool] | None = None
) -> te.AgentMembershipChanged:
    return te.AgentMembershipChanged(
        agent=member_agent(msg, is_agent),
        queue=text(msg, "Queue"),
        at=at,
        member=False,
        member_name=text(msg, "MemberName"),
    )
