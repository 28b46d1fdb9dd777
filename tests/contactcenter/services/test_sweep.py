"""The stale-call sweep closes calls whose hangup was never seen, once, and says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from config.celery import app
from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Call, CallEvent, CallQueue, Organization
from contactcenter.services.sweep import calls_sweep_stale
from contactcenter.services.telephony.derive import derive_status
from contactcenter.tasks import sweep_stale_calls
from realtime import presence
from realtime.groups import agent_group, queues_group
from tests.conftest import Floor
from tests.factories import make_call, make_org, make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REALTIME_PRESENCE_URL = ""
    settings.CALLS_STALE_AFTER_HOURS = 12
    presence.reset_memory()
    yield
    presence.reset_memory()


def open_call(
    org: Organization,
    queue: CallQueue | None,
    *,
    started: datetime,
    answered: bool = False,
    held: bool = False,
    **kwargs: Any,
) -> Call:
    """A call as the bridge leaves it when the hangup never arrives: no ``ended_at``."""
    call = make_call(org, queue=queue, started_at=started, **kwargs)
    call.queued_at = started + timedelta(seconds=2)
    if answered:
        call.answered_at = started + timedelta(seconds=20)
        call.wait_seconds = 18
    if held:
        call.held_since = started + timedelta(seconds=60)
    call.status = derive_status(call)
    call.save()
    return call


def _closed_entries(call: Call) -> list[CallEvent]:
    return list(CallEvent.objects.filter(call=call, type=CallEventType.CLOSED_STALE))


def test_closes_a_call_whose_hangup_was_never_seen_and_says_why(floor_a: Floor) -> None:
    now = timezone.now()
    queue = make_queue(floor_a.org)
    stale = open_call(floor_a.org, queue, started=now - timedelta(hours=13))
    assert stale.status == CallStatus.QUEUED

    assert calls_sweep_stale(now=now) == 1

    stale.refresh_from_db()
    assert stale.ended_at is not None
    # No answer and no abandon verdict: it counts as offered only (docs/reports.md).
    assert stale.status == CallStatus.FAILED
    assert stale.end_outcome == CallStatus.FAILED
    # It ends at the last instant its records show it alive, not at the sweep time.
    assert stale.ended_at == stale.queued_at
    assert stale.flags["closed_stale"]["max_age_hours"] == 12
    assert "no hangup seen within 12 hours" in stale.hangup_cause_text
    [entry] = _closed_entries(stale)
    assert entry.occurred_at == now
    assert entry.details["kind"] == "swept"
    assert entry.details["reason"] == "no hangup seen within 12 hours"
    assert entry.details["status_before"] == CallStatus.QUEUED
    assert entry.details["status"] == CallStatus.FAILED


def test_leaves_fresh_and_ended_calls_alone(floor_a: Floor) -> None:
    now = timezone.now()
    queue = make_queue(floor_a.org)
    fresh = open_call(floor_a.org, queue, started=now - timedelta(hours=11, minutes=59))
    ended = make_call(floor_a.org, queue=queue, started_at=now - timedelta(days=2))
    ended.ended_at = ended.started_at + timedelta(minutes=3)
    ended.save()
    before = {c.pk: (c.status, c.ended_at, c.updated_at) for c in (fresh, ended)}

    assert calls_sweep_stale(now=now) == 0

    for call in (fresh, ended):
        call.refresh_from_db()
        assert (call.status, call.ended_at, call.updated_at) == before[call.pk]
        assert _closed_entries(call) == []


def test_an_answered_call_completes_without_a_made_up_talk_time(floor_a: Floor) -> None:
    now = timezone.now()
    queue = make_queue(floor_a.org)
    call = open_call(
        floor_a.org, queue, started=now - timedelta(hours=20), answered=True, held=True
    )
    assert call.status == CallStatus.ON_HOLD
    last_entry = call.started_at + timedelta(minutes=7)
    CallEvent.objects.create(
        organization=floor_a.org,
        call=call,
        type=CallEventType.RESUMED,
        occurred_at=last_entry,
        dedup_key="test:resumed",
    )
    # A note typed hours later says nothing about when the call was last alive.
    CallEvent.objects.create(
        organization=floor_a.org,
        call=call,
        type=CallEventType.NOTES_UPDATED,
        occurred_at=now - timedelta(hours=1),
        dedup_key="test:notes",
    )

    assert calls_sweep_stale(now=now) == 1

    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED
    assert call.end_outcome == ""
    assert call.ended_at == last_entry
    assert call.held_since is None
    # Unknown talk time stays unknown, so AHT leaves the call out.
    assert call.talk_seconds is None
    assert call.wait_seconds == 18


def test_an_abandoned_call_left_up_stays_an_abandon(floor_a: Floor) -> None:
    now = timezone.now()
    call = open_call(floor_a.org, make_queue(floor_a.org), started=now - timedelta(hours=14))
    call.abandoned_at = call.queued_at + timedelta(seconds=40)
    call.wait_seconds = 40
    call.save()

    calls_sweep_stale(now=now)

    call.refresh_from_db()
    assert call.status == CallStatus.ABANDONED
    assert call.ended_at == call.abandoned_at


def test_idempotent_and_across_organizations(floor_a: Floor, floor_b: Floor) -> None:
    now = timezone.now()
    calls = [
        open_call(floor.org, make_queue(floor.org), started=now - timedelta(hours=30))
        for floor in (floor_a, floor_b)
    ]
    assert calls_sweep_stale(now=now) == 2
    closed = {c.pk: Call.objects.get(pk=c.pk).ended_at for c in calls}

    assert calls_sweep_stale(now=now + timedelta(minutes=5)) == 0

    for call in calls:
        assert Call.objects.get(pk=call.pk).ended_at == closed[call.pk]
        assert len(_closed_entries(call)) == 1


def test_a_hangup_that_arrives_later_still_wins(floor_a: Floor) -> None:
    """The close is marked like a resync close, so a replayed hangup overrides it."""
    from contactcenter import facts as te
    from contactcenter.services.telephony.apply import telephony_apply

    now = timezone.now()
    call = open_call(
        floor_a.org, make_queue(floor_a.org), started=now - timedelta(hours=13), answered=True
    )
    calls_sweep_stale(now=now)
    hangup = call.answered_at + timedelta(minutes=4)  # type: ignore[operator]
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="",
        events=[
            te.CallEnded(
                source=call.source,
                call_key=call.external_id,
                at=hangup,
                dedup_key="test:ended",
                cause=16,
                cause_text="Normal Clearing",
            )
        ],
    )
    call.refresh_from_db()
    assert call.ended_at == hangup
    assert call.talk_seconds == 240
    assert call.status == CallStatus.COMPLETED


def test_published_after_commit_so_screens_and_wallboards_drop_it(
    floor_a: Floor, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    queue = make_queue(floor_a.org)
    call = open_call(
        floor_a.org, queue, started=now - timedelta(hours=13), answered=True, agent=floor_a.agent
    )
    async_to_sync(presence.store().touch)([(floor_a.org.pk, floor_a.agent.pk, "console-1")])
    layer = get_channel_layer()
    assert layer is not None
    console = async_to_sync(layer.new_channel)()
    wallboard = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(agent_group(floor_a.agent.pk), console)
    async_to_sync(layer.group_add)(queues_group(floor_a.org.pk), wallboard)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        calls_sweep_stale(now=now)
    assert callbacks, "nothing is published before the commit"
    for callback in callbacks:
        callback()

    ping = async_to_sync(layer.receive)(wallboard)
    assert ping == {"type": "queues.changed", "queue_ids": [queue.pk]}
    message = async_to_sync(layer.receive)(console)
    # It ended (at its last sign of life) longer ago than the wrap-up window: the
    # agent's console drops it.
    assert message == {"type": "call.removed", "data": {"call_id": call.pk}}


def test_task_runs_the_sweep_and_is_scheduled(floor_a: Floor, settings: Any) -> None:
    now = timezone.now()
    open_call(floor_a.org, make_queue(floor_a.org), started=now - timedelta(hours=13))
    assert sweep_stale_calls.apply().get() == 1
    assert sweep_stale_calls.apply().get() == 0
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contactcenter.sweep_stale_calls" in schedule
    assert "contactcenter.sweep_stale_calls" in app.tasks


def test_max_age_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        calls_sweep_stale(max_age_hours=0)


def test_other_organizations_calls_are_not_touched_early() -> None:
    org = make_org()
    now = timezone.now()
    call = open_call(org, None, started=now - timedelta(hours=2))
    assert calls_sweep_stale(now=now) == 0
    call.refresh_from_db()
    assert call.ended_at is None
