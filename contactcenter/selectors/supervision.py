"""What a supervisor may act on: their own organization's agents, queues and calls.

Another organization's ids do not exist here (``NotFound``, as over REST).
"""

from __future__ import annotations

from contactcenter.errors import NotFound
from contactcenter.models import Agent, Call, CallQueue


def floor_agent(*, organization_id: int, agent_id: int) -> Agent:
    agent = Agent.objects.for_organization(organization_id).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound("No such agent.", field="agent_id")
    return agent


def floor_queue(*, organization_id: int, queue_id: int) -> CallQueue:
    queue = CallQueue.objects.for_organization(organization_id).filter(pk=queue_id).first()
    if queue is None:
        raise NotFound("No such queue.", field="queue_id")
    return queue


def floor_call(*, organization_id: int, call_id: int) -> Call:
    call = Call.objects.for_organization(organization_id).filter(pk=call_id).first()
    if call is None:
        raise NotFound("No such call.", field="call_id")
    return call
