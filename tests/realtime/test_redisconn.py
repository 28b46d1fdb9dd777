"""A task cancelled while it talks to Redis stops: redis-py's writes under Python
3.11's ``asyncio.wait_for`` lost the cancellation when it landed as a write completed
(realtime/redisconn.py). Against the real Redis server."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import pytest
import redis.asyncio
import redis.exceptions

from realtime import presence
from realtime.layers import CountingRedisPubSubChannelLayer
from realtime.redisconn import Connection, connection_class_for

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


async def _cancel_while_talking(client: redis.asyncio.Redis, attempts: int) -> int:
    """Cancel a task that sends commands back to back, at random moments; how many of
    the cancellations it did not obey (within half a second)."""
    lost = 0
    rng = random.Random(7)
    for _ in range(attempts):

        async def talk() -> None:
            while True:
                await client.ping()

        task = asyncio.create_task(talk())
        await asyncio.sleep(rng.random() * 0.002)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=0.5)
        if not done:
            lost += 1
            while not task.done():  # it would run on after the test otherwise
                task.cancel()
                await asyncio.wait([task], timeout=0.1)
    return lost


async def test_a_cancelled_task_stops_even_as_its_write_completes() -> None:
    # socket_timeout set, as in settings: that is what made redis-py use wait_for.
    pool = redis.asyncio.ConnectionPool.from_url(
        REDIS_URL, socket_timeout=15, connection_class=Connection
    )
    client = redis.asyncio.Redis(connection_pool=pool)
    try:
        # With redis-py's own class, about two in three of these were lost here.
        assert await _cancel_while_talking(client, 60) == 0
    finally:
        await client.aclose()


async def test_a_write_that_stalls_still_times_out(monkeypatch: Any) -> None:
    pool = redis.asyncio.ConnectionPool.from_url(
        REDIS_URL, socket_timeout=0.2, connection_class=Connection
    )
    client = redis.asyncio.Redis(connection_pool=pool, retry=None)
    try:
        await client.ping()  # connected

        async def stalled() -> None:  # a peer that stopped reading: the buffer stays full
            await asyncio.sleep(5)

        connection = await pool.get_connection()
        monkeypatch.setattr(connection._writer, "drain", stalled)
        with pytest.raises(redis.exceptions.TimeoutError, match="writing"):
            await connection.send_packed_command(b"PING\r\n")
        assert not connection.is_connected  # a half-written command: the socket goes
        assert connection.socket_timeout == 0.2  # and the setting is as it was
    finally:
        await client.aclose()


async def test_the_channel_layer_and_presence_connect_with_it() -> None:
    layer = CountingRedisPubSubChannelLayer(hosts=[{"address": REDIS_URL, "socket_timeout": 15}])
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x"})
        shard = layer._get_layer()._shards[0]
        assert shard._redis.connection_pool.connection_class is Connection
        assert (await layer.receive(channel))["type"] == "x"
    finally:
        await layer.flush()
    store = presence.RedisStore(REDIS_URL, "test-redisconn")
    assert store._client().connection_pool.connection_class is Connection
    # TLS and Unix sockets keep redis-py's classes for them.
    assert connection_class_for("rediss://example:6380/0") == {}
    assert connection_class_for("unix:///run/redis.sock") == {}
