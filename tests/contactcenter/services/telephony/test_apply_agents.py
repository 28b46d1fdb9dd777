"""Agent and queue-member state from the PBX, through telephony_apply."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcenter import facts as te
from contactcenter.enums import AgentState
from contactcenter.models import AgentStateLog, QueueMembership
from contactcenter.services.agents import agent_set_state
from contactcenter.services.telephony import telephony_apply
from tests.conftest import Floor
from tests.contactcenter.telephony_calls import at
from tests.factories import make_queue

pytestmark = pytest.mark.django_db


def test_agent_state_from_the_pbx(floor_a: Floor) -> None:
    support, sales = make_queue(floor_a.org, "support"), make_queue(floor_a.org, "sales")
    agent = floor_a.agent
    iface = agent.interface

    def member(
        q: str, s: float, device: str, paused: bool = False, reason: str = ""
    ) -> te.AgentMemberState:
        return te.AgentMemberState(
            agent=iface,
            queue=q,
            at=at(s),
            device=device,
            paused=paused,
            paused_reason=reason,
            calls_taken=4,
        )

    org = floor_a.org.pk
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[member("support", 0, "idle"), member("sales", 0, "idle")],
    )
    agent.refresh_from_db()
    assert agent.state == "available"
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[
            te.AgentPauseChanged(
                agent=iface, queue="support", at=at(10), paused=True, reason="Lunch"
            ),
        ],
    )
    agent.refresh_from_db()
    assert agent.state == "available"  # still available in sales
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[
            te.AgentPauseChanged(
                agent=iface, queue="sales", at=at(10.1), paused=True, reason="Lunch"
            ),
        ],
    )
    agent.refresh_from_db()
    assert (agent.state, agent.state_reason) == ("paused", "Lunch")
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[member("support", 20, "ringing", True, "Lunch")],
    )
    agent.refresh_from_db()
    assert agent.state == "ringing"
    membership = QueueMembership.objects.get(agent=agent, queue=support)
    assert (membership.paused, membership.paused_reason, membership.calls_taken) == (
        True,
        "Lunch",
        4,
    )
    telephony_apply(
        organization_id=org,
        connection_key="c",
        events=[
            member("support", 25, "idle", True, "Lunch"),
            te.AgentMembershipChanged(agent=iface, queue="sales", at=at(30), member=False),
            te.AgentMembershipChanged(agent=iface, queue="support", at=at(30.5), member=False),
        ],
    )
    assert QueueMembership.objects.get(agent=agent, queue=sales).is_logged_in is False
    log = list(
        AgentStateLog.objects.filter(agent=agent)
        .order_by("started_at")
        .values_list("state", "reason", "started_at")
    )
    assert log == [
        ("available", "", at(0)),
        ("paused", "Lunch", at(10.1)),
        ("ringing", "", at(20)),
        ("paused", "Lunch", at(25)),
        ("offline", "", at(30.5)),
    ]


def test_a_restated_member_state_writes_and_publishes_nothing(
    floor_a: Floor, django_assert_max_num_queries: Any
) -> None:
    """The PBX restates what is stored (a QueueMemberStatus per device change, one per
    queue): the agent and their memberships are read, and nothing is written or sent
    as a change, but their queues' figures are still pinged."""
    support = make_queue(floor_a.org, "support")
    iface = floor_a.agent.interface

    def member(s: float) -> te.AgentMemberState:
        return te.AgentMemberState(
            agent=iface, queue="support", at=at(s), device="idle", calls_taken=4
        )

    org = floor_a.org.pk
    first = telephony_apply(organization_id=org, connection_key="c", events=[member(0)])
    assert first.agent_ids == {floor_a.agent.pk}
    # The transaction's savepoint and its release (inside the test's transaction), the
    # lookups (agents, queues), the locked agents and their memberships: no write.
    with django_assert_max_num_queries(6):
        again = telephony_apply(organization_id=org, connection_key="c", events=[member(5)])
    assert (again.agent_ids, again.queue_ids) == (set(), {support.pk})
    assert QueueMembership.objects.get(agent=floor_a.agent).calls_taken == 4
    assert AgentStateLog.objects.filter(agent=floor_a.agent).count() == 1


def _log_reads(queries: CaptureQueriesContext) -> int:
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith("SELECT") and "contactcenter_agentstatelog" in q["sql"]
    )


def test_agents_in_no_queue_get_back_the_state_they_had_before_their_phone_in_one_read(
    floor_a: Floor,
) -> None:
    """Agents in no queue (a Twilio client's, a supervisor's phone): once their phone is
    idle, their memberships cannot say what they are; the state they had before it rang
    does, read for the batch's agents at once."""
    a, b = floor_a.agent, floor_a.other_agent
    agent_set_state(agent=a, state=AgentState.PAUSED, reason="outbound only", at=at(-10))
    agent_set_state(agent=b, state=AgentState.AVAILABLE, at=at(-10))
    org = floor_a.org.pk

    def phones(s: float, device: str) -> list[te.AgentFact]:
        return [
            te.AgentMemberState(agent=agent.interface, queue="", at=at(s), device=device)
            for agent in (a, b)
        ]

    telephony_apply(organization_id=org, connection_key="c", events=phones(0, "ringing"))
    with CaptureQueriesContext(connection) as queries:
        telephony_apply(
            organization_id=org,
            connection_key="c",
            events=[*phones(5, "in_use"), *phones(9, "idle")],
        )
    assert _log_reads(queries) == 1, [q["sql"] for q in queries.captured_queries]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, a.state_reason) == (AgentState.PAUSED, "outbound only")
    assert (b.state, b.state_reason) == (AgentState.AVAILABLE, "")


def test_agents_in_a_queue_read_no_state_log(floor_a: Floor) -> None:
    """The PBX's usual report, an agent in a queue: their memberships say their state
    once the phone is idle; nothing before it is read."""
    make_queue(floor_a.org, "support")
    iface = floor_a.agent.interface
    org = floor_a.org.pk

    def member(s: float, device: str) -> te.AgentMemberState:
        return te.AgentMemberState(agent=iface, queue="support", at=at(s), device=device)

    with CaptureQueriesContext(connection) as queries:
        telephony_apply(
            organization_id=org,
            connection_key="c",
            events=[member(0, "idle"), member(1, "ringing"), member(5, "idle")],
        )
    assert _log_reads(queries) == 0, [q["sql"] for q in queries.captured_queries]
    floor_a.agent.refresh_from_db()
    assert floor_a.agent.state == AgentState.AVAILABLE
