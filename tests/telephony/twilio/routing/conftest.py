from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from contactcenter.enums import AgentState
from contactcenter.models import Agent, CallQueue, QueueMembership
from contactcenter.services.agents import agent_set_state
from tests.conftest import Floor
from tests.factories import make_agent, make_queue
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, deliver, make_account
from tests.telephony.twilio.twilioside import TwilioSide


@dataclass
class RoutedFloor:
    floor: Floor
    queue: CallQueue
    agents: list[Agent]
    twilio: TwilioSide

    def available(self, *agents: Agent) -> None:
        for agent in agents:
            agent_set_state(agent=agent, state=AgentState.AVAILABLE)

    def identity(self, agent: Agent) -> str:
        return agent.twilio_identity

    def by_identity(self, identity: str) -> Agent:
        return next(a for a in self.agents if a.twilio_identity == identity)


def routed_floor(floor: Floor, api: FakeTwilioAPI, *, agents: int, strategy: str) -> RoutedFloor:
    account = make_account(floor.org.pk)
    api.add(account.account_sid, AUTH_TOKEN)
    assert account.account_sid == ACCOUNT_SID
    queue = make_queue(floor.org, "support")
    queue.strategy = strategy
    queue.retry_seconds = 0
    queue.save()
    members = [floor.agent, floor.other_agent]
    members += [make_agent(floor.org) for _ in range(agents - len(members))]
    members = members[:agents]
    for agent in members:
        QueueMembership.objects.create(organization=floor.org, queue=queue, agent=agent)
    client = Client()
    twilio = TwilioSide(deliver=lambda request: deliver(client, request), api=api)
    return RoutedFloor(floor=floor, queue=queue, agents=members, twilio=twilio)


@pytest.fixture
def public_url(settings: Any) -> Iterator[str]:
    settings.PUBLIC_URL = "https://cc.example.com"
    yield settings.PUBLIC_URL
