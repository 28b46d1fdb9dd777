"""The Redis channel layer waits for messages as long as asked (channels_redis#422)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


async def test_an_idle_receive_outlasts_the_blocking_pop() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    # channels-redis blocks 5 s per pop; with redis-py 8's default 5 s socket timeout
    # this read used to fail with redis TimeoutError at 5 s, tearing consumers down.
    with pytest.raises(TimeoutError) as caught:
        await asyncio.wait_for(layer.receive(channel), 6.5)
    assert type(caught.value) is TimeoutError  # asyncio's, not redis.exceptions'
    await layer.send(channel, {"type": "still.alive"})
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "still.alive"}
