"""Prometheus metrics of the realtime side: open WebSockets and channel-layer errors.

- ``cc_websocket_connections{stream}`` gauge: accepted sockets open in this process
  (``agent`` or ``wallboard``; refused handshakes are not counted).
- ``cc_channel_layer_errors_total{op}`` counter: ``send``/``group_send`` calls that
  raised (Redis unreachable, a full channel). notify.py logs and swallows them, so
  this counter is how an operator sees screens going stale.

The channel-layer classes below are the stock backends with that counter; settings
names them as the BACKEND. Each costs a ``try`` on the hot path and nothing else. The
Redis one also connects with ``realtime.redisconn.Connection``, whose writes do not
swallow a cancelled receive (a consumer closing, the queue feed stopping).
"""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from prometheus_client import Counter, Gauge

from realtime.redisconn import connection_class_for

WEBSOCKET_CONNECTIONS = Gauge(
    "cc_websocket_connections", "Open WebSocket connections, by stream.", ["stream"]
)
CHANNEL_LAYER_ERRORS = Counter(
    "cc_channel_layer_errors", "Channel-layer sends that raised, by operation.", ["op"]
)
_SEND_ERRORS = CHANNEL_LAYER_ERRORS.labels(op="send")
_GROUP_SEND_ERRORS = CHANNEL_LAYER_ERRORS.labels(op="group_send")


def websocket_opened(stream: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(stream=stream).inc()


def websocket_closed(stream: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(stream=stream).dec()


class _CountingSends:
    """Counts a layer's failed sends; put before the layer class it wraps."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await super().send(channel, message)  # type: ignore[misc]
        except Exception:
            _SEND_ERRORS.inc()
            raise

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await super().group_send(group, message)  # type: ignore[misc]
        except Exception:
            _GROUP_SEND_ERRORS.inc()
            raise


class CountingRedisChannelLayer(_CountingSends, RedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = self.hosts[index]
        self.hosts[index] = {**connection_class_for(str(host.get("address", ""))), **host}
        return super().create_pool(index)


class CountingInMemoryChannelLayer(_CountingSends, InMemoryChannelLayer):
    pass
