"""Internal calls are no queue's traffic: a colleague's call that reaches a queue is not
offered, answered or waiting on the wallboard, nor in the daily report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contactcenter.enums import CallDirection
from contactcenter.selectors.reports_figures import queue_figures_live
from contactcenter.selectors.wallboard import figures_by_queue
from tests.contactcenter.wallboard_figures import expected_board, queue_call
from tests.factories import make_org, make_queue

pytestmark = pytest.mark.django_db


def test_internal_calls_are_not_counted_as_queue_traffic() -> None:
    org = make_org(time_zone="UTC")
    queue = make_queue(org)
    now = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
    for direction in (CallDirection.INBOUND, CallDirection.INTERNAL):
        for outcome, minutes in (("completed", 90), ("abandoned", 60), ("waiting", 1)):
            call = queue_call(
                queue, queued_at=now - timedelta(minutes=minutes), outcome=outcome, wait=5, talk=30
            )
            call.direction = direction
            call.save(update_fields=["direction"])
    (row,) = figures_by_queue(organization=org, now=now, with_agents=False)
    assert (row.offered, row.answered, row.callers_waiting) == (3, 1, 1)
    oracle = expected_board(org, now)["queues"][0]
    assert (oracle["offered"], oracle["answered"], oracle["callers_waiting"]) == (3, 1, 1)
    figures = queue_figures_live(organization=org, date_from=now.date(), date_to=now.date())
    assert figures[(queue.pk, now.date())].offered == 3
    assert figures[(queue.pk, now.date())].answered == 1
