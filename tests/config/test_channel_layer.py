"""The Redis channel layer waits for messages as long as asked: a console idle for longer
than redis-py's default 5 s read timeout still hears its next frame (channels_redis#422
tore consumers down at 5 s)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


async def test_an_idle_receive_outlasts_the_read_timeout() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    done, _ = await asyncio.wait([waiting], timeout=6.5)
    assert not done  # still waiting, not failed
    await layer.send(channel, {"type": "still.alive"})
    assert await asyncio.wait_for(waiting, 5) == {"type": "still.alive"}
