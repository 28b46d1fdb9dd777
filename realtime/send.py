"""Sending messages to channel-layer groups: the publisher's and presence's one way out.

A message is a ``(group, message)`` pair; the channel-layer message type is the WebSocket
message's type, so consumers handle "call.ringing" with a method ``call_ringing`` that forwards
``data`` as the WebSocket message's data.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import messages as msgs

Message = tuple[str, dict[str, Any]]


def message(type_: str, data: msgs.Model) -> dict[str, Any]:
    return {"type": type_, "data": data.dump()}


def send(messages: list[Message]) -> None:
    """From synchronous code (after a commit)."""
    if messages:
        async_to_sync(send_all)(messages)


async def send_all(messages: list[Message]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if hasattr(layer, "group_send_many"):  # ours (realtime.layers): one round trip, in order
        await layer.group_send_many(messages)
        return
    # Messages to one group keep their order; different groups are sent concurrently.
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for group, item in messages:
        by_group[group].append(item)

    async def send_in_order(group: str, queue: list[dict[str, Any]]) -> None:
        for item in queue:
            await layer.group_send(group, item)

    await asyncio.gather(*(send_in_order(g, q) for g, q in by_group.items()))
