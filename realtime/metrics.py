"""Prometheus metrics of the realtime side: open WebSockets and channel-layer errors.

- ``cc_websocket_connections{stream}`` gauge: accepted sockets open in this process
  (``agent`` or ``wallboard``; refused handshakes are not counted).
- ``cc_channel_layer_errors_total{op}`` counter: ``send``/``group_send`` calls that
  raised (Redis unreachable, a full channel). realtime.publish logs and swallows them, so
  this counter is how an operator sees screens going stale.
- ``cc_publish_lag_seconds`` histogram (the bridge's background publisher): commit to
  the messages handed to the channel layer, observed once per round of jobs for its
  oldest. With ``cc_bridge_event_lag_seconds`` it splits a screen's delay into storing
  and publishing; the rest is the channel layer and the server process.

The channel-layer classes that count those errors are in realtime/layers.py.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBSOCKET_CONNECTIONS = Gauge(
    "cc_websocket_connections", "Open WebSocket connections, by stream.", ["stream"]
)
CHANNEL_LAYER_ERRORS = Counter(
    "cc_channel_layer_errors", "Channel-layer sends that raised, by operation.", ["op"]
)
PUBLISH_LAG = Histogram(
    "cc_publish_lag_seconds",
    "Seconds from a change's commit to its messages handed to the channel layer "
    "(the bridge's publisher; observed once per round, for its oldest change).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SEND_ERRORS = CHANNEL_LAYER_ERRORS.labels(op="send")
GROUP_SEND_ERRORS = CHANNEL_LAYER_ERRORS.labels(op="group_send")


def websocket_opened(stream: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(stream=stream).inc()


def websocket_closed(stream: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(stream=stream).dec()
