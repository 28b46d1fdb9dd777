"""Per-request CPU of the REST reads, in-process (Django's test client), no server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test DATABASE_TEST_NAME=test_restcpu \\
      .venv/bin/pytest -q -s -p no:cacheprovider bench/rest_cpu.py
    # REST_CPU_PROFILE=calls_supervisor|calls_agent|lookup|healthz: and cProfile it (CPU time)

``bench/rest.py`` measures requests/s through Daphne on a million calls; on a shared
machine its figures move with the load. This one seeds 5,000 calls and 1,000 contacts
into the test database and prints, per endpoint, the process CPU time of one request
(the best of five batches of ``REST_CPU_REQUESTS / 5``), which other processes' load
hardly moves: the part of the cost the code controls (the database server's own CPU
and Daphne's are not in it). The call list's output is checked against CallSerializer.
Each user makes at most ``2 * (REST_CPU_REQUESTS + 20)`` requests (plus
REST_CPU_REQUESTS when profiled): keep that under RATE_LIMIT_READ (1,200 a minute by
default), or raise it.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contactcenter.api.calls import CallSerializer
from contactcenter.enums import CallDirection, CallSource, CallStatus
from contactcenter.models import Call, CallQueue
from crm.models import Contact, ContactPhone
from tests.conftest import build_floor, client_for

REQUESTS = int(os.environ.get("REST_CPU_REQUESTS", "300"))


@pytest.mark.django_db
def test_rest_cpu(settings: Any) -> None:
    # The rate limits still run (their cost is part of a request's) in buckets of this
    # run's own; every response is checked to be a 200, never a measured 429.
    settings.RATE_LIMITS_KEY_PREFIX = f"bench-rest-cpu:{uuid.uuid4().hex}"
    floor = build_floor("Bench")
    org = floor.org
    queue = CallQueue.objects.create(organization=org, name="Support", pbx_queue_name="support")
    contacts = Contact.objects.bulk_create(
        [Contact(organization=org, first_name=f"F{i}", last_name=f"L{i}") for i in range(1000)]
    )
    numbers = [f"+1555{2_000_000 + i:07d}" for i in range(1000)]
    ContactPhone.objects.bulk_create(
        [
            ContactPhone(organization=org, contact=contact, number=number)
            for contact, number in zip(contacts, numbers, strict=True)
        ]
    )
    rng = random.Random(1)  # noqa: S311 - synthetic data
    now = timezone.now()
    agents = [floor.agent, floor.other_agent]
    Call.objects.bulk_create(
        [
            Call(
                organization=org,
                source=CallSource.ASTERISK,
                external_id=f"b-{i}",
                direction=CallDirection.INBOUND,
                status=CallStatus.COMPLETED,
                caller_number=rng.choice(numbers),
                callee_number="+15551230000",
                queue=queue,
                agent=rng.choice(agents),
                started_at=now - timedelta(seconds=i * 60),
                queued_at=now - timedelta(seconds=i * 60),
                answered_at=now - timedelta(seconds=i * 60 - 20),
                ended_at=now - timedelta(seconds=i * 60 - 200),
                wait_seconds=20,
                talk_seconds=180,
            )
            for i in range(5000)
        ]
    )
    supervisor = client_for(floor.supervisor)
    agent = client_for(floor.agent_member)
    plain = Client()

    def ok(response: Any) -> None:
        assert response.status_code == 200, (response.status_code, response.content[:200])

    cases: dict[str, Callable[[], Any]] = {
        "healthz": lambda: ok(plain.get("/healthz")),
        "calls_supervisor": lambda: ok(supervisor.get("/api/v1/calls/")),
        "calls_agent": lambda: ok(agent.get("/api/v1/calls/")),
        "lookup": lambda: ok(agent.get("/api/v1/contacts/lookup/", {"phone": rng.choice(numbers)})),
    }
    body = supervisor.get("/api/v1/calls/").json()
    ids = [row["id"] for row in body["results"]]
    calls = {call.pk: call for call in Call.objects.filter(pk__in=ids)}
    assert body["results"] == [CallSerializer(calls[pk]).data for pk in ids]

    profiled = os.environ.get("REST_CPU_PROFILE")
    lines = []
    for name, request in cases.items():
        for _ in range(20):
            request()
        batches = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(REQUESTS // 5):
                request()
            batches.append((time.process_time() - started) / (REQUESTS // 5) * 1000)
        lines.append(f"{name:>18}: {min(batches):6.2f} ms of CPU a request")
        if profiled == name:
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _ in range(REQUESTS):
                request()
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
    print("\n" + "\n".join(lines))
