"""The channel layers settings name: the stock backends, counting failed sends.

On Redis the layer is channels-redis's pub/sub one. A published message is one PUBLISH,
pushed by Redis to each server process that has a console in the group; the
list-based layer took about eight Redis round trips per message (four to look the group
up and push, and in the receiving process four more, one message at a time: a cleanup
script, the pop, a backup copy and its removal). At 1,000 consoles and 2,000 AMI
events/s that was the largest share of the server process's time (docs/benchmarks.md).

Pub/sub keeps no message for a process that is not connected. Messages published while
a process's subscription connection is down are gone, so its screens may be stale: when
the connection fails, or comes back after a failure, every channel of the process hears
``layer.lost`` (``LAYER_LOST``). Consoles and wallboards close with 4503, and the browser
reconnects and takes a fresh snapshot (docs/realtime-protocol.md). The queue feed
refreshes every queue. That is the list-based layer's behaviour too: its consumers
failed with the connection, and Daphne closed their sockets.

The Redis connections are ``realtime.redisconn.Connection``, whose writes do not
swallow a cancelled receive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts
from redis.asyncio.client import PubSub

from realtime.metrics import GROUP_SEND_ERRORS, SEND_ERRORS
from realtime.redisconn import connection_class_for

logger = logging.getLogger(__name__)

LAYER_LOST = "layer.lost"
RETRY_SECONDS = 1.0  # between two attempts to read from a subscription that failed


async def _counted(errors: Any, sending: Awaitable[None]) -> None:
    """Await a send; one that raises is counted (cc_channel_layer_errors_total), then
    raised again."""
    try:
        await sending
    except Exception:
        errors.inc()
        raise


class CountingInMemoryChannelLayer(InMemoryChannelLayer):
    """The one-process default."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await _counted(SEND_ERRORS, super().send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await _counted(GROUP_SEND_ERRORS, super().group_send(group, message))

    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        for group, message in messages:
            await self.group_send(group, message)


class _WatchedPubSub(PubSub):
    """redis-py re-subscribes on a reconnect; what was published in between is gone."""

    def __init__(self, shard: _Shard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard = shard

    async def on_connect(self, connection: Any) -> None:
        # redis-py calls this on reconnects only (the first connection is made before
        # the callback is registered).
        await super().on_connect(connection)
        self.shard.lost("reconnected")


class _Shard(RedisSingleShardConnection):
    """One Redis server's subscriptions for the process."""

    channel_layer: _LoopLayer
    _pubsub: PubSub | None

    def _ensure_redis(self) -> None:
        if self._redis is None:
            super()._ensure_redis()
            assert self._redis is not None
            self._pubsub = _WatchedPubSub(self, connection_pool=self._redis.connection_pool)

    def lost(self, why: str) -> None:
        self.channel_layer.subscriptions_lost(why)

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, message), in order, in one round trip. The stock
        ``publish`` holds the shard's lock for a round trip per message, so a job's
        messages went out one by one however they were gathered."""
        async with self._lock:
            self._ensure_redis()
            assert self._redis is not None
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in messages:
                    pipe.publish(channel, message)
                await pipe.execute()

    async def _do_receiving(self) -> None:
        # channels-redis's loop, but a failure tells the channels (upstream only logs
        # it), and only a cancellation ends it.
        while True:
            try:
                if self._pubsub is not None and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)  # nothing subscribed yet: nothing to read
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.lost(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(RETRY_SECONDS)


class _LoopLayer(RedisPubSubLoopLayer):
    """The layer of one event loop, with shards that report lost subscriptions."""

    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(hosts=hosts, **kwargs)
        self._shards = [
            _Shard({**connection_class_for(str(host.get("address", ""))), **host}, self)
            for host in decode_hosts(hosts)
        ]

    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in messages:
            channel = self._get_group_channel_name(group)
            shard = self._get_shard(channel)
            payload = self.channel_layer.serialize(message)
            by_shard.setdefault(id(shard), []).append((channel, payload))
        shards = {id(shard): shard for shard in self._shards}
        await asyncio.gather(*(shards[key].publish_many(batch) for key, batch in by_shard.items()))

    def subscriptions_lost(self, why: str) -> None:
        if not self.channels:
            return
        logger.warning(
            "channel layer: subscriptions interrupted (%s); telling %d channels",
            why,
            len(self.channels),
        )
        message = self.channel_layer.serialize({"type": LAYER_LOST})
        for queue in self.channels.values():
            queue.put_nowait(message)


class CountingRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """Production: Redis pub/sub (see the module's docstring)."""

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer

    # The stock class reaches its loop layer through __getattr__, so no super() here.
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await _counted(SEND_ERRORS, self._get_layer().send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await _counted(GROUP_SEND_ERRORS, self._get_layer().group_send(group, message))

    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """``group_send`` each (group, message): those of one Redis server in one round
        trip, in order (a group's messages keep theirs). A failure is counted once."""
        if messages:
            await _counted(GROUP_SEND_ERRORS, self._get_layer().group_send_many(messages))
