"""Wallboard figures equal the same numbers recomputed from the Call rows in Python.

``expected_board`` follows docs/figures.md literally, one call at a time, and decides
"today" by each call's local calendar date (not by the selector's UTC window), so the
two computations share nothing but the rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from contactcenter.enums import AgentState
from contactcenter.models import Callback, CallbackStatus, QueueMembership, Voicemail
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services.callbacks import callback_schedule
from tests.contactcenter.voicemailed import leave_voicemail
from tests.contactcenter.wallboard_figures import (
    NY,
    assert_board,
    local,
    queue_call,
)
from tests.factories import make_agent, make_org, make_queue

pytestmark = pytest.mark.django_db


def test_new_york_spring_forward_day_by_hand() -> None:
    # 2025-03-09 lasts 23 hours in New York: 05:00 UTC to 04:00 UTC the next day.
    org = make_org("NY", time_zone=NY)
    q = make_queue(org, "sales")
    now = local(NY, 2025, 3, 9, 15, 0)
    midnight = local(NY, 2025, 3, 9, 0, 0)
    assert midnight == datetime(2025, 3, 9, 5, tzinfo=UTC)
    queue_call(q, queued_at=midnight - timedelta(seconds=1), outcome="completed", wait=5, talk=60)
    queue_call(q, queued_at=midnight, outcome="completed", wait=10, talk=100)
    queue_call(q, queued_at=local(NY, 2025, 3, 9, 3, 30), outcome="completed", wait=40, talk=200)
    queue_call(q, queued_at=local(NY, 2025, 3, 9, 9, 0), outcome="abandoned", wait=30)
    queue_call(q, queued_at=local(NY, 2025, 3, 9, 9, 5), outcome="abandoned", wait=2)
    queue_call(q, queued_at=now - timedelta(seconds=95), outcome="waiting")
    # Queued before midnight and still waiting: waiting now, offered yesterday.
    queue_call(q, queued_at=midnight - timedelta(minutes=2), outcome="waiting")
    # 23:59 local is 03:59 UTC on the 10th: still the 9th in New York.
    queue_call(q, queued_at=local(NY, 2025, 3, 9, 23, 59), outcome="abandoned", wait=9)
    queue_call(q, queued_at=local(NY, 2025, 3, 10, 0, 0), outcome="abandoned", wait=9)

    [row] = figures_by_queue(organization=org, now=now)
    assert (row.offered, row.answered, row.abandoned, row.short_abandoned) == (6, 2, 2, 1)
    assert row.callers_waiting == 2
    assert row.longest_wait_seconds == int((now - midnight).total_seconds()) + 120
    assert row.answered_within_service_level == 1  # 10 s within 20 s; 40 s is not
    assert row.service_level_percent == 25.0  # 1 / (2 answered + 2 abandoned)
    assert row.abandon_rate_percent == 50.0
    assert (row.asa_seconds, row.aht_seconds) == (25.0, 150.0)
    assert_board(org, now)


def test_empty_queue_has_zeros_and_no_ratios() -> None:
    org = make_org("Quiet")
    make_queue(org, "support")
    [row] = figures_by_queue(organization=org, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert (row.offered, row.callers_waiting, row.longest_wait_seconds) == (0, 0, None)
    assert row.service_level_percent is row.asa_seconds is row.abandon_rate_percent is None
    assert row.agents_by_state == {s.value: 0 for s in AgentState}


def test_counts_without_the_members_equal_the_counts_with_them(
    floor_a: Any, django_assert_max_num_queries: Any
) -> None:
    """What agents' consoles get (with_agents=False): the same figures and counts by
    state, from an aggregate instead of one row per member."""
    org = floor_a.org
    queue = make_queue(org, "support")
    for agent, state in ((floor_a.agent, "available"), (floor_a.other_agent, "paused")):
        QueueMembership.objects.create(organization=org, queue=queue, agent=agent)
        agent.state = state
        agent.save(update_fields=["state"])
    now = timezone.now()
    [full] = figures_by_queue(organization=org, now=now)
    with django_assert_max_num_queries(4):
        [light] = figures_by_queue(organization=org, now=now, with_agents=False)
    assert light.agents == ()
    assert light.agents_by_state == full.agents_by_state
    assert light.agents_by_state["available"] == 1 and light.agents_by_state["paused"] == 1
    assert replace(light, agents=full.agents) == full


def test_callbacks_waiting_counts_the_open_callbacks_of_each_queue() -> None:
    org, other = make_org("Calling back"), make_org("Elsewhere")
    sales, support = make_queue(org, "sales"), make_queue(org, "support")
    later = timezone.now() + timedelta(hours=3)
    for queue, status in [
        (sales, CallbackStatus.WAITING),
        (sales, CallbackStatus.DIALING),
        (sales, CallbackStatus.ANSWERED),
        (sales, CallbackStatus.GIVEN_UP),
        (support, CallbackStatus.CANCELED),
        (support, CallbackStatus.WAITING),
    ]:
        callback = callback_schedule(queue=queue, number="+15557650001", at=later)
        Callback.objects.filter(pk=callback.pk).update(status=status)
    callback_schedule(queue=make_queue(other, "sales"), number="+15557650001")
    now = timezone.now()
    by_name = {
        row.queue_name: row.callbacks_waiting for row in figures_by_queue(organization=org, now=now)
    }
    assert by_name == {"Sales": 2, "Support": 1}
    assert_board(org, now)


def test_voicemails_waiting_counts_the_unclaimed_voicemails_of_each_queue() -> None:
    org, other = make_org("Messages"), make_org("Elsewhere")
    sales, support = make_queue(org, "sales"), make_queue(org, "support")
    agent = make_agent(org)
    for queue, status in [
        (sales, "new"),
        (sales, "new"),
        (sales, "claimed"),
        (support, "done"),
        (support, "new"),
    ]:
        vm = leave_voicemail(queue)
        if status != "new":
            done_at = timezone.now() if status == "done" else None
            Voicemail.objects.filter(pk=vm.pk).update(
                status=status, claimed_by=agent, claimed_at=timezone.now(), done_at=done_at
            )
    leave_voicemail(make_queue(other, "sales"))
    now = timezone.now()
    rows = figures_by_queue(organization=org, now=now)
    assert {row.queue_name: row.voicemails_waiting for row in rows} == {"Sales": 2, "Support": 1}
    assert_board(org, now)
