"""Random floors in several zones and DST days: every figure equals the call records."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from contactcenter.enums import AgentState
from contactcenter.models import Call, Organization
from contactcenter.selectors.metrics import local_day
from contactcenter.selectors.wallboard import queue_metrics, wallboard
from tests.contactcenter.test_wallboard import (
    NY,
    OUTCOMES,
    assert_board,
    join,
    local,
    queue_call,
    set_state,
)
from tests.factories import make_agent, make_call, make_org, make_queue

pytestmark = pytest.mark.django_db


def random_floor(org: Organization, now: datetime, rng: random.Random) -> None:
    queues = [make_queue(org, "support"), make_queue(org, "billing"), make_queue(org, "retired")]
    queues[1].service_level_seconds, queues[1].short_abandon_seconds = 30, 10
    queues[2].is_active = False
    for q in queues[1:]:
        q.save()
    day = local_day(time_zone=org.time_zone, now=now)
    # Boundaries to the microsecond, then calls spread over yesterday, today, tomorrow.
    times = [day.start, day.start - timedelta(microseconds=1), day.end - timedelta(seconds=1)]
    times += [day.end, now - timedelta(seconds=1)]
    times += [day.start + rng.random() * (day.end - day.start) for _ in range(90)]
    times += [now - timedelta(hours=rng.uniform(12, 48)) for _ in range(30)]
    for at in times:
        outcome = rng.choice(OUTCOMES)
        queue_call(
            rng.choice(queues),
            queued_at=at,
            outcome=outcome,
            wait=rng.choice([0, 1, 4, 5, 9, 10, 19, 20, 21, 29, 30, 31, 120]),
            talk=rng.randint(0, 900),
        )
    make_call(org, queue=None, started_at=now)  # not a queue call: on no row
    for n in range(8):
        agent = make_agent(org)
        since = None if n == 0 else now - timedelta(seconds=rng.randint(0, 5000))
        set_state(agent, rng.choice(list(AgentState)), since, rng.choice(["", "Lunch"]))
        for q in rng.sample(queues, rng.randint(0, 3)):
            join(q, agent, logged_in=rng.random() < 0.8, paused=rng.random() < 0.3)


@pytest.mark.parametrize(
    ("tz", "wall", "seed"),
    [
        (NY, (2025, 3, 9, 16, 20), 1),
        (NY, (2025, 11, 2, 0, 30), 2),
        (NY, (2025, 11, 2, 23, 40), 3),
        ("America/Santiago", (2024, 9, 8, 1, 15), 4),
        ("Asia/Kolkata", (2025, 5, 5, 4, 0), 5),
        ("Australia/Lord_Howe", (2025, 4, 6, 12, 0), 6),  # 30-minute DST shift
        ("UTC", (2025, 7, 1, 8, 0), 7),
    ],
)
def test_every_figure_equals_the_call_records(tz: str, wall: tuple, seed: int) -> None:
    org = make_org(f"Org {seed}", time_zone=tz)
    now = local(tz, *wall)
    random_floor(org, now, random.Random(seed))
    board = wallboard(organization=org, now=now)
    assert [q.queue_name for q in board.queues] == ["Billing", "Support"]
    assert board.totals.offered > 0
    assert_board(org, now)
    billing = board.queues[0].queue_id
    assert_board(org, now, queue_ids=[billing])
    # Totals are the queues together: every count is the sum of the rows.
    for name in ["offered", "answered", "abandoned", "short_abandoned", "callers_waiting"]:
        assert getattr(board.totals, name) == sum(getattr(q, name) for q in board.queues)


def test_another_organizations_calls_never_count() -> None:
    org_a, org_b = make_org("A", time_zone=NY), make_org("B", time_zone=NY)
    now = local(NY, 2025, 3, 10, 12, 0)
    qa, qb = make_queue(org_a, "support"), make_queue(org_b, "support")
    queue_call(qa, queued_at=now - timedelta(minutes=5), outcome="completed", wait=3, talk=30)
    for outcome in OUTCOMES:
        queue_call(qb, queued_at=now - timedelta(minutes=9), outcome=outcome, wait=50, talk=9)
    # A corrupt row of org B pointing at org A's queue is still org B's call.
    stray = queue_call(qb, queued_at=now - timedelta(minutes=1), outcome="waiting")
    Call.objects.filter(pk=stray.pk).update(queue=qa)
    join(qa, make_agent(org_b))  # and org B's agent on org A's queue is not shown
    [row] = queue_metrics(organization=org_a, now=now)
    assert (row.offered, row.answered, row.callers_waiting, row.agents) == (1, 1, 0, ())
    assert queue_metrics(organization=org_a, now=now, queue_ids=[qb.pk]) == []
    assert_board(org_a, now)
    assert_board(org_b, now)


def test_a_handful_of_queries_whatever_the_volume(django_assert_num_queries: Any) -> None:
    org = make_org("Busy", time_zone=NY)
    now = local(NY, 2025, 3, 10, 12, 0)
    random_floor(org, now, random.Random(9))
    # Queues, calls by queue, memberships with agents, calls in total.
    with django_assert_num_queries(4):
        wallboard(organization=org, now=now)
