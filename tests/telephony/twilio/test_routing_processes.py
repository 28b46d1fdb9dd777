"""Routing under concurrency: two real server processes take Twilio's webhooks at once.

50 callers and 10 agents: every webhook goes to one of two Daphne processes at random,
from many threads, while the processes decide and ring agents through the fake Twilio
API (a real socket). Each caller must be rung once and answered once, by one agent;
no agent may be offered a caller while on a call; the call records say the same.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from contactcenter.enums import AgentState, CallEventType, QueueStrategy
from contactcenter.models import Agent, Call, CallEvent
from telephony.models import OfferStatus, TwilioOffer
from tests.conftest import Floor
from tests.realtime.servers import Daphne, daphne, until_up
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import routed_floor
from tests.telephony.twilio.signed import TwilioRequest, sign
from tests.telephony.twilio.twilioside import Answer, Ring, TwilioSide

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

CALLERS = 50
AGENTS = 10
PUBLIC_URL = "https://cc.example.com"


@pytest.fixture
def servers(tmp_path: Path, twilio_api: FakeTwilioAPI) -> Iterator[list[Daphne]]:
    env = {"PUBLIC_URL": PUBLIC_URL, "TWILIO_API_BASE_URL": twilio_api.base_url}
    with ExitStack() as stack:
        started = [stack.enter_context(daphne(tmp_path, f"daphne-{n}", **env)) for n in "ab"]
        yield started


def _over_http(servers: list[Daphne]) -> Any:
    def deliver(request: TwilioRequest) -> Answer:
        url = random.choice(servers).base + request.path
        headers = {"X-Twilio-Signature": sign(url, request.fields)}
        response: Answer = requests.post(url, data=request.fields, headers=headers, timeout=60)
        return response

    return deliver


def test_fifty_callers_ten_agents_two_processes(
    floor_a: Floor, twilio_api: FakeTwilioAPI, servers: list[Daphne], settings: Any
) -> None:
    for server in servers:
        asyncio.run(until_up(server))
    try:
        _play(floor_a, twilio_api, servers, settings)
    except BaseException:
        for server in servers:
            print(f"--- {server.base} ---\n{server.log()[-20000:]}")
        raise


def _play(floor: Floor, api: FakeTwilioAPI, servers: list[Daphne], settings: Any) -> None:
    settings.PUBLIC_URL = PUBLIC_URL
    f = routed_floor(floor, api, agents=AGENTS, strategy=QueueStrategy.LEASTRECENT)
    Agent.objects.filter(pk__in=[a.pk for a in f.agents]).update(state=AgentState.AVAILABLE)
    twilio = TwilioSide(deliver=_over_http(servers), api=api)
    served: list[Ring] = []
    lock = threading.Lock()

    def serve(ring: Ring) -> None:
        twilio.answer(ring)
        twilio.hang_up(ring, talk=1)
        with lock:
            served.append(ring)

    with ThreadPoolExecutor(max_workers=24) as pool:
        arrivals = [pool.submit(twilio.caller_arrives, n) for n in range(1, CALLERS + 1)]
        calls: list[Future[None]] = []
        while len(calls) < CALLERS:
            calls += [pool.submit(serve, ring) for ring in twilio.rings(1)]
        sids = [arrival.result() for arrival in arrivals]
        for call in calls:
            call.result()
    assert twilio.rings() == []  # nobody was rung twice, or for nothing

    # Each caller rung once, answered once, by the agent rung.
    assert sorted(r.call for r in served) == sorted(sids)
    offers = list(TwilioOffer.objects.order_by("pk"))
    assert Counter(o.status for o in offers) == {OfferStatus.DONE: CALLERS}
    by_call = {o.call.external_id: o for o in offers}
    calls_rows = Call.objects.filter(external_id__in=sids)
    assert len(calls_rows) == CALLERS
    for call in calls_rows:
        assert call.answered_at is not None and call.ended_at is not None, call
        assert call.agent_id == by_call[call.external_id].agent_id, call
        answers = CallEvent.objects.filter(call=call, type=CallEventType.ANSWERED).count()
        assert answers == 1, call
    ring_agent = {r.call: r.identity for r in served}
    assert {sid: by_call[sid].agent.twilio_identity for sid in sids} == ring_agent

    # No agent was offered a caller before their previous call was over.
    per_agent: dict[int, list[TwilioOffer]] = defaultdict(list)
    for offer in offers:
        per_agent[offer.agent_id].append(offer)
    for agent_offers in per_agent.values():
        agent_offers.sort(key=lambda o: o.created_at)
        for before, after in itertools.pairwise(agent_offers):
            assert before.ended_at is not None and before.ended_at <= after.created_at
    assert len(per_agent) == AGENTS  # least recent: everyone took calls
