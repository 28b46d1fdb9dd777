"""Random floors in several zones and DST days: every figure equals the call records."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from contactcenter.models import Call
from contactcenter.selectors.wallboard import figures_by_queue, wallboard
from tests.contactcenter.wallboard_figures import (
    NY,
    OUTCOMES,
    assert_board,
    join,
    local,
    queue_call,
    random_floor,
)
from tests.factories import make_agent, make_org, make_queue

pytestmark = pytest.mark.django_db


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
    [row] = figures_by_queue(organization=org_a, now=now)
    assert (row.offered, row.answered, row.callers_waiting, row.agents) == (1, 1, 0, ())
    assert figures_by_queue(organization=org_a, now=now, queue_ids=[qb.pk]) == []
    assert_board(org_a, now)
    assert_board(org_b, now)


def test_a_handful_of_queries_whatever_the_volume(django_assert_num_queries: Any) -> None:
    org = make_org("Busy", time_zone=NY)
    now = local(NY, 2025, 3, 10, 12, 0)
    random_floor(org, now, random.Random(9))
    # Queues, calls by queue, memberships with agents, calls in total.
    with django_assert_num_queries(4):
        wallboard(organization=org, now=now)
