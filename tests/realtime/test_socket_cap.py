"""One user holds at most REALTIME_MAX_SOCKETS_PER_USER sockets, counted across server
processes: two real Daphne processes sharing one Redis, over real sockets. A closed
socket gives its slot back at once; a crashed process's slots expire."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from django.db import connection

from tests.conftest import Floor
from tests.realtime.servers import Daphne, daphne, message_until, until_up, ws_open

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
    ),
]

CAP = 3
TTL = 3


@pytest.fixture
def servers(tmp_path: Path, floor_a: Floor) -> Iterator[tuple[Daphne, Daphne]]:
    prefix = f"cap{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": prefix,
        "REALTIME_KEY_PREFIX": f"{prefix}:rt",
        "REALTIME_MAX_SOCKETS_PER_USER": str(CAP),
        "REALTIME_PRESENCE_TTL_SECONDS": str(TTL),
    }
    with daphne(tmp_path, "a", **env) as a, daphne(tmp_path, "b", **env) as b:
        yield a, b


@pytest.fixture
async def http(servers: tuple[Daphne, Daphne]) -> AsyncIterator[aiohttp.ClientSession]:
    for server in servers:
        await until_up(server)
    async with aiohttp.ClientSession() as session:
        yield session


async def _wallboard(
    http: aiohttp.ClientSession, server: Daphne, floor: Floor
) -> aiohttp.ClientWebSocketResponse | int | None:
    """An open wallboard, or the code it was refused with."""
    ws = await ws_open(http, server, "/ws/wallboard/", user=floor.supervisor.user)
    msg = await ws.receive(timeout=15)
    if msg.type != aiohttp.WSMsgType.TEXT:
        return ws.close_code
    await message_until(ws, lambda f: f["type"] == "snapshot")
    return ws


async def test_the_cap_holds_across_processes_and_a_close_frees_a_slot(
    http: aiohttp.ClientSession, servers: tuple[Daphne, Daphne], floor_a: Floor
) -> None:
    a, b = servers
    held = [await _wallboard(http, a, floor_a), await _wallboard(http, a, floor_a)]
    held.append(await _wallboard(http, b, floor_a))
    assert all(isinstance(ws, aiohttp.ClientWebSocketResponse) for ws in held), held
    assert await _wallboard(http, b, floor_a) == 4429
    assert await _wallboard(http, a, floor_a) == 4429
    # Another user of the same organization has slots of their own.
    ws = await ws_open(http, a, "/ws/agent/", user=floor_a.agent_member.user)
    await message_until(ws, lambda f: f["type"] == "snapshot")
    await ws.close()
    # A socket that closes gives its slot back, for any process to hand out.
    first = held.pop(0)
    assert isinstance(first, aiohttp.ClientWebSocketResponse)
    await first.close()
    again = await _wallboard(http, b, floor_a)
    assert isinstance(again, aiohttp.ClientWebSocketResponse), again
    await again.close()
    for ws in held:
        assert isinstance(ws, aiohttp.ClientWebSocketResponse)
        await ws.close()
    for server in servers:
        assert "Traceback" not in server.log(), server.log()


async def test_a_crashed_process_slots_expire(
    http: aiohttp.ClientSession, servers: tuple[Daphne, Daphne], floor_a: Floor
) -> None:
    a, b = servers
    on_b = [await _wallboard(http, b, floor_a) for _ in range(CAP)]
    assert all(isinstance(ws, aiohttp.ClientWebSocketResponse) for ws in on_b), on_b
    b.stop(signal.SIGKILL)  # no disconnect runs: the slots stay until they expire
    assert await _wallboard(http, a, floor_a) == 4429
    crashed_at = time.monotonic()
    while (ws := await _wallboard(http, a, floor_a)) == 4429:
        assert time.monotonic() - crashed_at < TTL + 5, "the dead process's slots never expired"
        await asyncio.sleep(0.2)  # waiting out an expiry: there is no event to await
    assert isinstance(ws, aiohttp.ClientWebSocketResponse), ws
    await ws.close()
