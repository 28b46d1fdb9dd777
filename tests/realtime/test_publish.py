"""Publishing after commit (contactcenter/publish.py, the door; realtime/publish.py, the
sink that renders and sends): the data is committed whatever the channel layer does, and
the messages go out in commit order. What a render reads is
tests/realtime/screens/test_changes.py's."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import transaction
from prometheus_client import REGISTRY

from contactcenter import publish
from contactcenter.enums import CallStatus
from contactcenter.models import Call
from contactcenter.services.calls import call_update_notes
from realtime import publish as screen_publish
from realtime.screens import changes, floor
from tests.conftest import Floor
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db(transaction=True)

# The publisher renders in a worker process, which reads the environment's settings, not
# the overrides of tests/realtime/conftest.py: these tests keep the environment's wiring
# (channel layer, presence store, cache), as the server and the bridge do.
WIRING = ("CHANNEL_LAYERS", "CACHES", "REALTIME_PRESENCE_URL")
ENVIRONMENT = {name: getattr(django_settings, name) for name in WIRING}


@pytest.fixture(autouse=True)
def environment_wiring(realtime_settings: None, settings: Any) -> None:
    for name, value in ENVIRONMENT.items():
        setattr(settings, name, value)


def test_a_channel_layer_that_is_down_is_logged_not_raised(
    floor_a: Floor, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every publish fails to connect.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.CountingRedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    queue = make_queue(floor_a.org)  # its wallboards are told, whoever is online
    call = make_call(floor_a.org, agent=floor_a.agent, queue=queue)
    with transaction.atomic():
        call_update_notes(call=call, notes="kept", actor=None)
        publish.calls_changed(
            organization_id=floor_a.org.pk, call_ids=[call.pk], queue_ids=[queue.pk]
        )
    assert Call.objects.get(pk=call.pk).notes == "kept"
    failures = [r.getMessage() for r in caplog.records if "in on_commit()" in r.getMessage()]
    # Logged by the publisher's name (a functools.partial made the logging itself raise).
    # The wallboards' publish always sends; the edit's goes to the agent's consoles only
    # when the presence store (Redis, shared by the whole run) has one open for that id.
    named = {m.split("Error calling ", 1)[1].split(" ", 1)[0] for m in failures}
    assert "publish.calls_changed" in named
    assert named <= {"publish.calls_changed", "publish.call_edited"}, failures


def _changes(org: int, calls: set[int], forced: str | None = None) -> screen_publish.Job:
    return (changes.publish_changes, (org, frozenset(calls), frozenset(), frozenset(), forced))


def test_jobs_that_waited_together_are_rendered_together_in_order() -> None:
    note: screen_publish.Job = (changes.publish_notification, (7,))
    jobs = [_changes(1, {10}), note, _changes(2, {20}), _changes(1, {11}), _changes(1, {12}, "x")]
    assert screen_publish._coalesce(jobs) == [
        _changes(1, {10, 11}),  # at the place of the first
        note,
        _changes(2, {20}),
        _changes(1, {12}, "x"),  # another kind of change stays apart
    ]


def test_floor_pings_that_waited_together_are_one_per_organization() -> None:
    ping = floor.floor_ping
    jobs: list[screen_publish.Job] = [
        (ping, (1,)),
        _changes(1, {10}),
        (ping, (2,)),
        (ping, (1,)),
        _changes(1, {11}),
        (ping, (1,)),
    ]
    assert screen_publish._coalesce(jobs) == [(ping, (1,)), _changes(1, {10, 11}), (ping, (2,))]
    assert ping(5) == [("supervisors.5", {"type": "floor.changed"})]


async def _message(layer: Any, channel: str) -> dict[str, Any]:
    return await asyncio.wait_for(layer.receive(channel), timeout=30)


async def test_the_background_publisher_renders_in_its_worker_and_survives_its_death(
    floor_a: Floor,
) -> None:
    from channels.layers import get_channel_layer

    from realtime import presence
    from realtime.groups import agent_group

    layer = get_channel_layer()
    assert layer is not None
    org, agent = floor_a.org, floor_a.agent
    await presence.store().touch([(org.pk, agent.pk, "console-1")])
    console = await layer.new_channel()
    await layer.group_add(agent_group(agent.pk), console)
    call = await sync_to_async(make_call)(org, agent=agent, status=CallStatus.IN_PROGRESS)

    def commit_change(notes: str) -> None:
        with transaction.atomic():
            call_update_notes(call=call, notes=notes, actor=None)

    rounds = REGISTRY.get_sample_value("cc_publish_lag_seconds_count") or 0.0
    publisher = await screen_publish.install_publisher()
    try:
        await sync_to_async(commit_change)("first")
        message = await _message(layer, console)
        assert (message["type"], message["data"]["call"]["notes"]) == ("call.updated", "first")
        assert screen_publish._publisher is publisher
        # What the worker loaded at startup is out of its garbage collections.
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(publisher._renderer, gc.get_freeze_count) > 1000
        # ... and it collects the rest at the bridge's thresholds.
        thresholds = await loop.run_in_executor(publisher._renderer, gc.get_threshold)
        assert list(thresholds) == django_settings.BRIDGE_GC_THRESHOLDS == [700, 10, 100]

        # The worker dies (killed, out of memory...): the next job gets a new one.
        (worker,) = publisher.worker_pids()
        os.kill(worker, signal.SIGKILL)
        await sync_to_async(commit_change)("second")
        message = await _message(layer, console)
        assert message["data"]["call"]["notes"] == "second"
        (replacement,) = publisher.worker_pids()
        assert replacement != worker
    finally:
        await screen_publish.uninstall_publisher()
    assert screen_publish._publisher is None
    # Each round's delay from commit to channel layer is on /metrics (at least these two:
    # in a full run, other work of the test process may publish in the same window).
    assert (REGISTRY.get_sample_value("cc_publish_lag_seconds_count") or 0.0) >= rounds + 2
    await sync_to_async(commit_change)("third")  # published on commit again
    assert (await _message(layer, console))["data"]["call"]["notes"] == "third"


async def test_the_publisher_sends_in_commit_order_while_it_renders_the_next_jobs(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.layers import get_channel_layer

    from realtime import presence
    from realtime.groups import agent_group

    layer = get_channel_layer()
    assert layer is not None
    org, agent = floor_a.org, floor_a.agent
    await presence.store().touch([(org.pk, agent.pk, "console-1")])
    console = await layer.new_channel()
    await layer.group_add(agent_group(agent.pk), console)
    call = await sync_to_async(make_call)(org, agent=agent, status=CallStatus.IN_PROGRESS)

    def commit_changes(count: int) -> None:
        for n in range(count):
            with transaction.atomic():
                call_update_notes(call=call, notes=str(n), actor=None)

    # The first sends are the slowest: a publisher that did not wait for them would send
    # the next jobs' messages ahead of theirs.
    sends = 0
    send_all = screen_publish.send_all

    async def slow_send_all(messages: list[screen_publish.Message]) -> None:
        nonlocal sends
        sends += 1
        await asyncio.sleep(max(0.0, 0.2 - 0.02 * sends))
        await send_all(messages)

    monkeypatch.setattr(screen_publish, "send_all", slow_send_all)
    await screen_publish.install_publisher()
    try:
        await sync_to_async(commit_changes)(40)
        seen = [int((await _message(layer, console))["data"]["call"]["notes"])]
        while seen[-1] != 39:
            seen.append(int((await _message(layer, console))["data"]["call"]["notes"]))
    finally:
        await screen_publish.uninstall_publisher()
    # Each message shows the rows as they were when it was rendered: never older than the
    # message before it.
    assert sends > 1
    assert seen == sorted(seen), seen
