"""A stand-in for the AMI bridge: listens on a connection's group as run_bridge does and
answers console commands the way ``telephony.ami.bridge`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

from telephony.models import AsteriskConnection
from telephony.pbx import pbx_group
from tests.realtime.support import sync

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def success(command: str, params: dict[str, Any]) -> dict[str, Any]:
    data = {"call": "1741950123.42"} if command == "originate" else None
    return {"ok": True, "error": "", "message": "Success", "data": data}


def refusal(command: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"ok": False, "error": "refused", "message": "No such channel", "data": None}


class FakeBridge:
    def __init__(self, organization_id: int, connection_key: str, answer: Answer = success) -> None:
        self.group = pbx_group(organization_id, connection_key)
        self.answer = answer
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def __aenter__(self) -> FakeBridge:
        self.layer = get_channel_layer()
        # The default prefix: on channels-redis every local channel of a process must share
        # it, or a receiver holding the lock never reads the others (see test_redis.py).
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.get_running_loop().create_task(self._serve())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await self.layer.group_discard(self.group, self.channel)

    async def _serve(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            command, params = message["command"], message["params"]
            self.received.append((command, params))
            reply = {"type": "pbx.result", **self.answer(command, params)}
            await self.layer.send(message["reply_to"], reply)


@sync
def connect_pbx(org: Any) -> str:
    record = AsteriskConnection.objects.create(
        organization=org, name="pbx", host="127.0.0.1", username="u", secret="s"
    )
    return f"asterisk:{record.pk}"
