"""A state picked by hand against the phone's state, and wrap-up as a queue pause.

The console once took "Available" at once while the agent was on a call: the badge
showed available for an instant, the PBX's next report put "on call" back with a new
start, and the badge's timer restarted in the middle of the call (issue 24).
"""

from __future__ import annotations

import pytest

from contactcenter import facts as te
from contactcenter.enums import AgentState
from contactcenter.errors import ApplicationError
from contactcenter.models import AgentStateLog
from contactcenter.services.agents import agent_choose_state
from contactcenter.services.telephony import telephony_apply
from contactcenter.transitions import AGENT_WRAP_UP_PAUSE_REASON
from tests.conftest import Floor
from tests.contactcenter.telephony_calls import at
from tests.factories import make_queue

pytestmark = pytest.mark.django_db


def member(
    floor: Floor, queue: str, seconds: float, device: str, *, paused: bool = False, reason: str = ""
) -> te.AgentMemberState:
    return te.AgentMemberState(
        agent=floor.agent.interface,
        queue=queue,
        at=at(seconds),
        device=device,
        paused=paused,
        paused_reason=reason,
    )


def apply(floor: Floor, *events: te.Fact) -> None:
    telephony_apply(organization_id=floor.org.pk, connection_key="c", events=list(events))
    floor.agent.refresh_from_db()


@pytest.mark.parametrize("phone", ["in_use", "ringing"])
@pytest.mark.parametrize("chosen", ["available", "wrap_up", "paused"])
def test_a_state_picked_while_the_phone_is_busy_leaves_the_phone_state_and_its_start(
    floor_a: Floor, phone: str, chosen: str
) -> None:
    make_queue(floor_a.org, "support")
    apply(floor_a, member(floor_a, "support", 0, "idle"), member(floor_a, "support", 5, phone))
    before = (floor_a.agent.state, floor_a.agent.state_changed_at)
    assert before[0] in (AgentState.ON_CALL, AgentState.RINGING)

    agent = agent_choose_state(agent=floor_a.agent, state=chosen, reason="lunch")

    # What is returned (the ack's agent) is what is stored: the phone's state, since 5 s.
    assert (agent.state, agent.state_changed_at) == before
    floor_a.agent.refresh_from_db()
    assert (floor_a.agent.state, floor_a.agent.state_changed_at) == before
    assert AgentStateLog.objects.filter(agent=floor_a.agent).count() == 2


def test_offline_is_refused_on_a_call_and_taken_once_it_ended(floor_a: Floor) -> None:
    make_queue(floor_a.org, "support")
    apply(floor_a, member(floor_a, "support", 0, "in_use"))
    with pytest.raises(ApplicationError) as refused:
        agent_choose_state(agent=floor_a.agent, state="offline")
    assert (refused.value.code, refused.value.status, refused.value.field) == (
        "on_call",
        409,
        "state",
    )
    apply(floor_a, member(floor_a, "support", 9, "idle"))
    assert agent_choose_state(agent=floor_a.agent, state="offline").state == "offline"


def test_the_wrap_up_pause_reads_back_as_wrap_up_before_and_after_a_call(
    floor_a: Floor,
) -> None:
    make_queue(floor_a.org, "support")
    make_queue(floor_a.org, "sales")
    wrap = AGENT_WRAP_UP_PAUSE_REASON
    apply(
        floor_a,
        member(floor_a, "support", 0, "idle", paused=True, reason=wrap),
        member(floor_a, "sales", 0, "idle", paused=True, reason=wrap),
    )
    assert (floor_a.agent.state, floor_a.agent.state_reason) == ("wrap_up", "")
    # A call (dialled out: the pause does not stop that), then back to wrap-up.
    apply(floor_a, member(floor_a, "support", 10, "in_use", paused=True, reason=wrap))
    assert floor_a.agent.state == "on_call"
    apply(floor_a, member(floor_a, "support", 20, "idle", paused=True, reason=wrap))
    assert floor_a.agent.state == "wrap_up"
    # Another reason in one queue: a pause, with both reasons.
    apply(
        floor_a,
        te.AgentPauseChanged(
            agent=floor_a.agent.interface, queue="sales", at=at(30), paused=True, reason="Lunch"
        ),
    )
    assert (floor_a.agent.state, floor_a.agent.state_reason) == ("paused", f"Lunch, {wrap}")
    # Wrap-up in one queue only: the other still offers calls.
    apply(
        floor_a,
        te.AgentPauseChanged(agent=floor_a.agent.interface, queue="sales", at=at(40), paused=False),
    )
    assert floor_a.agent.state == "available"
