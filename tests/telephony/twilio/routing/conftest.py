from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from contactcenter.enums import AgentState
from contactcenter.models import Agent, CallQueue, QueueMembership
from contactcenter.services.agents import agent_set_state
from telephony.twilio.callbacks import Hints, webhook_path
from tests.conftest import Floor
from tests.factories import make_agent, make_queue
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    deliver,
    make_account,
)
from tests.telephony.twilio.twilioside import Answer, TwilioSide


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

    def webhook(self, path: str, sid: str, status: str, **fields: str) -> Answer:
        """Twilio's request to ``path`` for the call ``sid`` (inbound unless ``fields``
        say otherwise), signed; the server's answer, which must be a success."""
        request = TwilioRequest(
            path,
            {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "CallSid": sid,
                "CallStatus": status,
                "Direction": "inbound",
                **fields,
            },
        )
        answer = self.twilio.deliver(request)
        assert answer.status_code in (200, 204), (str(request), answer.content)
        return answer

    def caller_dials(self, sid: str) -> Answer:
        """A caller rings our number: the Voice URL of the queue, whose TwiML is the
        answer (Twilio runs nothing more here)."""
        voice = webhook_path("voice", Hints(queue=self.twilio.queue))
        return self.webhook(voice, sid, "ringing", From=CALLER, To=OUR_NUMBER)

    def browser_call(self, agent: Agent, sid: str, path: str, status: str, **extra: str) -> None:
        """Twilio's request to ``path`` about ``agent``'s own call from their browser
        (the client calls CALLER)."""
        self.webhook(path, sid, status, From=f"client:{agent.twilio_identity}", To=CALLER, **extra)


def routed_floor(
    floor: Floor, api: FakeTwilioAPI, *, agents: int, strategy: str, caller_id: str = ""
) -> RoutedFloor:
    """``agents`` of the floor in a queue routed by us with ``strategy``, Twilio's side
    ready; ``caller_id``: the account's number for the agents' own calls."""
    account = make_account(floor.org.pk, caller_id=caller_id)
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
