"""Routing under concurrency: two real server processes take Twilio's webhooks at once.

50 callers and 10 agents: every webhook goes to one of two Daphne processes at random,
from many threads, while the processes decide and ring agents through the fake Twilio
API (a real socket). Each caller must be rung once and answered once, by one agent;
no agent may be offered a caller while on a call; the call records say the same.

And a routing worker killed (SIGKILL) between its claim and the ring: the beat's
repair job, in another process, serves the caller.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from contactcenter.enums import AgentState, CallEventType, CallStatus, QueueStrategy
from contactcenter.models import Agent, Call, CallEvent
from contactcenter.selectors.wallboard import figures_by_queue
from telephony.models import OfferStatus, TwilioOffer
from telephony.twilio.routing.ringing import CLAIM_SECONDS
from tests.conftest import Floor
from tests.realtime.servers import ROOT, Daphne, daphne, server_env, until_up
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
        assert call.status == CallStatus.COMPLETED and call.talk_seconds is not None, call
        answers = CallEvent.objects.filter(call=call, type=CallEventType.ANSWERED).count()
        assert answers == 1, call
        # One agent's part, ended once, by the agent who answered; no missed ring.
        completed = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_COMPLETED)
        assert list(completed.values_list("agent_id", flat=True)) == [call.agent_id], call
        missed = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_RING_NO_ANSWER)
        assert not missed.exists(), call
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

    # The wallboard says what happened: 50 offered, 50 answered, none abandoned or
    # waiting, each agent's count the number of offers they took.
    [row] = figures_by_queue(organization=floor.org, queue_ids=[f.queue.pk])
    assert (row.offered, row.answered, row.abandoned, row.callers_waiting) == (
        CALLERS,
        CALLERS,
        0,
        0,
    )
    taken = Counter(c.agent_id for c in calls_rows)
    assert taken == Counter({agent: len(o) for agent, o in per_agent.items()})
    assert sum(taken.values()) == CALLERS


def _run_job(tmp_path: Path, name: str, code: str, **env: str) -> subprocess.Popen[bytes]:
    """A Python process of the project (as a Celery worker or beat runs the task)."""
    script = f"import django; django.setup(); {code}"
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=server_env(DJANGO_SETTINGS_MODULE="config.settings", **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_between_the_claim_and_the_ring_leaves_the_caller_served(
    floor_a: Floor, twilio_api: FakeTwilioAPI, servers: list[Daphne], tmp_path: Path, settings: Any
) -> None:
    settings.PUBLIC_URL = PUBLIC_URL
    for server in servers:
        asyncio.run(until_up(server))
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RRMEMORY)
    twilio = TwilioSide(deliver=_over_http(servers), api=twilio_api)
    sid = twilio.caller_arrives(1)  # nobody available: the caller waits
    assert twilio.rings() == []
    agent = f.agents[0]
    Agent.objects.filter(pk=agent.pk).update(state=AgentState.AVAILABLE)

    # The routing task, in a worker that stops once its claim is committed.
    announce = tmp_path / "claimed"
    env = {"PUBLIC_URL": PUBLIC_URL, "TWILIO_API_BASE_URL": twilio_api.base_url}
    worker = _run_job(
        tmp_path,
        "worker",
        f"from telephony.tasks import twilio_route; twilio_route({floor_a.org.pk})",
        CC_TEST_PAUSE_BEFORE_RING=str(announce),
        **env,
    )
    try:
        for _ in range(600):  # the worker starting up and deciding: no event to await
            if announce.exists() and announce.read_text().strip():
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text())
        assert int(announce.read_text().split()[0]) == worker.pid
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    [claim] = TwilioOffer.objects.all()
    assert (claim.status, claim.agent_id) == (OfferStatus.CLAIMED, agent.pk)
    assert twilio.rings() == []  # Twilio was never asked

    # The beat's repair job (another process), once the claim is stale.
    time.sleep(CLAIM_SECONDS + 1)
    beat = _run_job(
        tmp_path,
        "beat",
        "from telephony.tasks import twilio_routing_repair; assert twilio_routing_repair() == 1",
        **env,
    )
    assert beat.wait(timeout=60) == 0, (tmp_path / "beat.log").read_text()
    [ring] = twilio.rings()
    assert (ring.call, ring.identity) == (sid, agent.twilio_identity)
    twilio.answer(ring)
    twilio.hang_up(ring, talk=5)
    claim.refresh_from_db()
    assert claim.status == OfferStatus.EXPIRED
    served = TwilioOffer.objects.exclude(pk=claim.pk).get()
    assert (served.status, served.agent_id) == (OfferStatus.DONE, agent.pk)
    call = Call.objects.get(external_id=sid)
    assert call.agent_id == agent.pk and call.answered_at is not None
    assert call.ended_at is not None
    assert CallEvent.objects.filter(call=call, type=CallEventType.ANSWERED).count() == 1
