"""The Redis channel layer waits for messages as long as asked: a console idle for longer
than redis-py's default 5 s read timeout still hears its next message (channels_redis#422
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


async def test_many_group_sends_arrive_in_order_in_each_group() -> None:
    """``group_send_many`` (the publisher's one round trip for a job's messages): every
    member of each group hears its group's messages, in the order given."""
    from realtime.metrics import GROUP_SEND_ERRORS

    layer = get_channel_layer()
    one, two, both = [await layer.new_channel() for _ in range(3)]
    for group, channel in (("many.a", one), ("many.b", two), ("many.a", both), ("many.b", both)):
        await layer.group_add(group, channel)
    errors = GROUP_SEND_ERRORS._value.get()
    await layer.group_send_many(
        [
            ("many.a", {"type": "t", "n": 1}),
            ("many.b", {"type": "t", "n": 2}),
            ("many.a", {"type": "t", "n": 3}),
        ]
    )

    async def heard(channel: str, count: int) -> list[int]:
        return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(count)]

    assert await heard(one, 2) == [1, 3]
    assert await heard(two, 1) == [2]
    assert await heard(both, 3) == [1, 2, 3]
    assert GROUP_SEND_ERRORS._value.get() == errors
