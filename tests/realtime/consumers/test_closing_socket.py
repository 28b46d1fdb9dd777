"""A console that closes while its messages are being written: the messages are dropped
quietly and the other consoles are still served.

Daphne (autobahn) raises ``Disconnected`` for a message sent after the close handshake
began and before the consumer hears of the close; these tests make that send fail the
same way, on consumers not connected to anything.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from autobahn.exception import Disconnected

from realtime import feed
from realtime.consumers.base import StreamConsumer


class Console(StreamConsumer):
    stream = "agent"

    def __init__(self, *, closing: bool) -> None:
        super().__init__()
        self.seq, self.closed, self.closing_under_us = 0, False, closing
        self.sent: list[str] = []
        self.base_send = self._send  # type: ignore[method-assign]

    async def _send(self, message: dict[str, Any]) -> None:
        if self.closing_under_us:
            raise Disconnected("Attempt to send on a closed protocol")
        self.sent.append(message["text"])

    async def snapshot(self) -> Any:
        raise AssertionError("never connected")

    async def queues_updated(self, update: feed.FeedUpdate) -> None:
        await self.emit_encoded("queue.stats", f'{{"queue_id":{min(update.queue_ids)}}}')


async def test_a_message_to_a_closing_socket_is_dropped_and_the_next_not_tried() -> None:
    console = Console(closing=True)
    await console.emit_encoded("call.ringing", "{}")
    assert console.closed
    console.closing_under_us = False
    await console.emit_encoded("call.updated", "{}")
    assert console.sent == []


async def test_a_queue_flush_serves_the_others_when_one_console_is_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lane = feed.Lane(feed.OrgFeed(organization_id=1), every_ms=1000)
    consoles = [Console(closing=index == 3) for index in range(feed.FLUSH_SLICE + 2)]
    lane.subscribers.update(consoles)
    with caplog.at_level(logging.DEBUG, logger="realtime"):
        await lane._flush(feed.FeedUpdate(1, frozenset({7})))
    for index, console in enumerate(consoles):
        if index == 3:
            assert console.closed and console.sent == []
        else:
            assert len(console.sent) == 1 and '"data":{"queue_id":7}' in console.sent[0]
    assert [r.levelname for r in caplog.records] == ["DEBUG"], caplog.text
    assert "agent socket closing, queue.stats message dropped" in caplog.text
