"""/metrics on the server: the named series, the WebSocket gauge, channel-layer errors
and the Celery queue depth read from the broker at scrape time."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from channels.exceptions import ChannelFull
from django.test import Client
from prometheus_client import REGISTRY

from realtime import presence
from realtime.layers import CountingInMemoryChannelLayer, CountingRedisPubSubChannelLayer
from tests.conftest import Floor
from tests.realtime.support import Socket, session_cookie


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def _scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def _sample(text: str, series: str) -> float | None:
    match = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def test_metrics_names_every_series_an_operator_watches() -> None:
    text = _scrape()
    for family in (
        "cc_ami_connected",
        "cc_ami_events_received",
        "cc_bridge_event_lag_seconds",
        "cc_websocket_connections",
        "cc_channel_layer_errors",
    ):
        assert re.search(rf"^# TYPE {family}(_total)? ", text, re.M), family
    assert "process_cpu_seconds_total" in text or "python_info" in text


def test_only_get_is_allowed() -> None:
    assert Client().post("/metrics").status_code == 405


@pytest.fixture
def in_memory_realtime(settings: Any) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "realtime.layers.CountingInMemoryChannelLayer"}
    }
    settings.REALTIME_PRESENCE_URL = ""
    settings.REALTIME_PRESENCE_GRACE_SECONDS = 0.05
    presence.reset_memory()
    yield
    presence.reset_memory()


@pytest.mark.django_db(transaction=True)
async def test_websocket_gauge_counts_open_sockets_by_stream(
    floor_a: Floor, in_memory_realtime: None
) -> None:
    wallboards = {"stream": "wallboard"}
    before = _value("cc_websocket_connections", wallboards)
    board = Socket("/ws/wallboard/", cookie=await session_cookie(floor_a.supervisor.user))
    opened, _ = await board.open()
    assert opened
    assert _value("cc_websocket_connections", wallboards) == before + 1
    # A refused socket (an agent may not watch the wallboard) is never counted.
    refused = Socket("/ws/wallboard/", cookie=await session_cookie(floor_a.agent_member.user))
    assert (await refused.open())[0] is False
    assert _value("cc_websocket_connections", wallboards) == before + 1
    await board.close()
    assert _value("cc_websocket_connections", wallboards) == before


async def test_channel_layer_errors_are_counted_and_still_raised() -> None:
    layer = CountingInMemoryChannelLayer(capacity=1)
    sends = {"op": "send"}
    before = _value("cc_channel_layer_errors_total", sends)
    await layer.send("agent.1", {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send("agent.1", {"type": "x"})
    assert _value("cc_channel_layer_errors_total", sends) == before + 1

    # Redis unreachable: a publish fails, the counter says so.
    down = CountingRedisPubSubChannelLayer(hosts=[{"address": "redis://127.0.0.1:1/0"}])
    group_sends = {"op": "group_send"}
    before = _value("cc_channel_layer_errors_total", group_sends)
    with pytest.raises((OSError, redis.RedisError)):
        await down.group_send("floor.1", {"type": "x"})
    assert _value("cc_channel_layer_errors_total", group_sends) == before + 1


@pytest.fixture
def broker_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs REDIS_URL")
    return url


def test_celery_queue_depth_is_read_from_the_broker(settings: Any, broker_url: str) -> None:
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"  # a key of its own in a shared Redis
    settings.CELERY_BROKER_URL = broker_url
    settings.METRICS_CELERY_QUEUES = [queue]
    client = redis.Redis.from_url(broker_url)
    try:
        client.rpush(queue, "t1", "t2", "t3")
        text = _scrape()
        assert _sample(text, "cc_celery_broker_up") == 1.0
        assert _sample(text, f'cc_celery_queue_length{{queue="{queue}"}}') == 3.0
        client.lpop(queue)
        assert _sample(_scrape(), f'cc_celery_queue_length{{queue="{queue}"}}') == 2.0
    finally:
        client.delete(queue)


def test_a_broker_down_is_reported_not_an_error(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    text = _scrape()
    assert _sample(text, "cc_celery_broker_up") == 0.0
    assert "cc_celery_queue_length{" not in text


def test_no_queue_series_with_the_eager_default(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "memory://"
    text = _scrape()
    assert "cc_celery_broker_up" not in text
