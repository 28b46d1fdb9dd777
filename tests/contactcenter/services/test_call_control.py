"""contactcenter.services.call_control with no telephony port installed (a process
without the telephony app): no organization has a PBX; the agent's state still moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async

from contactcenter import ports
from contactcenter.enums import AgentState, CallStatus
from contactcenter.errors import ApplicationError
from contactcenter.services.call_control import agent_set_state, call_command, call_originate
from tests.conftest import Floor
from tests.factories import make_call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_port() -> Iterator[None]:
    installed = ports.telephony()
    ports._port = None
    yield
    ports._port = installed


async def test_without_a_port_commands_are_refused_as_no_pbx(floor_a: Floor, no_port: None) -> None:
    agent = floor_a.agent
    call = await sync_to_async(make_call)(floor_a.org, agent=agent, status=CallStatus.IN_PROGRESS)
    call.connection_key = "asterisk:1"  # an AMI call: a bridge would take its commands
    with pytest.raises(ApplicationError) as originate:
        await call_originate(agent=agent, number="+15550001111", timeout=1)
    with pytest.raises(ApplicationError) as hangup:
        await call_command(call=call, agent=agent, command="hangup", timeout=1)
    assert (originate.value.code, originate.value.status) == ("no_pbx", 409)
    assert (hangup.value.code, hangup.value.status) == ("no_pbx", 409)
    moved, pbx = await agent_set_state(
        agent=agent, state=AgentState.PAUSED, reason="lunch", timeout=1
    )
    assert (moved.state, moved.state_reason, pbx) == (AgentState.PAUSED, "lunch", None)
    assert not ports.softphone_ready(floor_a.org.pk)
