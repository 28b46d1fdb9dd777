"""The protocol's close codes and error messages as a browser gets them: over a real
socket, from a real Daphne process (autobahn checks what the application sends, which
the channels test communicator does not), and never a 1011 or a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.db import connection

from tests.conftest import Floor
from tests.realtime.servers import (
    Daphne,
    close_code,
    daphne,
    message_until,
    next_message,
    until_up,
    ws_open,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a server process needs PostgreSQL"
    ),
]

MAX_BYTES = 4096


@pytest.fixture
def server(tmp_path: Path, floor_a: Floor) -> Iterator[Daphne]:
    with daphne(tmp_path, REALTIME_MAX_MESSAGE_BYTES=str(MAX_BYTES)) as proc:
        yield proc


@pytest.fixture
async def http(server: Daphne) -> AsyncIterator[aiohttp.ClientSession]:
    await until_up(server)
    async with aiohttp.ClientSession() as session:
        yield session


async def _console(http: aiohttp.ClientSession, server: Daphne, floor: Floor) -> Any:
    ws = await ws_open(http, server, "/ws/agent/", user=floor.agent_member.user)
    assert (await next_message(ws))["type"] == "hello"
    assert (await next_message(ws))["type"] == "snapshot"
    return ws


async def _still_serving(ws: Any) -> None:
    await ws.send_json({"type": "ping", "id": "alive", "data": {}})
    message = await message_until(ws, lambda f: f["type"] == "pong")
    assert message["data"]["id"] == "alive"


def _no_traceback(server: Daphne) -> None:
    log = server.log()
    assert "Traceback" not in log and "1011" not in log, log


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null"])
async def test_a_missing_or_foreign_origin_closes_4003(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor, origin: str | None
) -> None:
    ws = await ws_open(http, server, "/ws/agent/", user=floor_a.agent_member.user, origin=origin)
    assert await close_code(ws) == 4003
    _no_traceback(server)


async def test_refusals_close_with_their_codes(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor
) -> None:
    ws = await ws_open(http, server, "/ws/agent/")
    assert await close_code(ws) == 4401
    ws = await ws_open(http, server, "/ws/wallboard/", user=floor_a.agent_member.user)
    assert await close_code(ws) == 4403
    # "²" passes str.isdigit() and int() refuses it: this was an HTTP 500 at the handshake.
    for queue in ("%C2%B2", "abc", "1" * 19):
        ws = await ws_open(
            http, server, f"/ws/wallboard/?queue={queue}", user=floor_a.supervisor.user
        )
        assert await close_code(ws) == 4400, queue
    ws = await ws_open(http, server, "/ws/wallboard/?queue=999999", user=floor_a.supervisor.user)
    assert await close_code(ws) == 4404
    _no_traceback(server)


async def test_a_path_that_is_no_stream_closes_4404(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor
) -> None:
    # The router raised "No route found": a failed handshake and a traceback per try.
    for path in ("/ws/nope/", "/ws/agent/extra/", "/ws/", "/elsewhere/", "/"):
        ws = await ws_open(http, server, path, user=floor_a.agent_member.user)
        assert await close_code(ws) == 4404, path
    ws = await ws_open(http, server, "/ws/nope/")  # signed in or not
    assert await close_code(ws) == 4404
    _no_traceback(server)


async def test_a_message_over_the_limit_gets_too_big_then_4009(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor
) -> None:
    ws = await _console(http, server, floor_a)
    await ws.send_str("x" * (MAX_BYTES + 1))
    message = await message_until(ws, lambda f: f["type"] == "error")
    assert message["type"] == "error" and message["data"]["code"] == "too_big", message
    assert await close_code(ws) == 4009
    _no_traceback(server)


async def test_a_message_over_the_transports_limit_drops_the_connection(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor
) -> None:
    # Daphne's own limit (--websocket-max-message-size, 1 MiB by default): autobahn
    # drops the TCP connection before the application sees the message (it fails
    # connections "by drop": no close handshake, so the client reports 1006). The server
    # goes on serving.
    ws = await _console(http, server, floor_a)
    await ws.send_str("x" * (1024 * 1024 + 1))
    assert await close_code(ws) == 1006
    await _still_serving(await _console(http, server, floor_a))
    _no_traceback(server)


async def test_deep_or_unstorable_json_gets_an_error_message_and_the_socket_stays(
    http: aiohttp.ClientSession, server: Daphne, floor_a: Floor
) -> None:
    ws = await ws_open(http, server, "/ws/agent/", user=floor_a.agent_member.user, max_msg_size=0)
    await message_until(ws, lambda f: f["type"] == "snapshot")
    notes = '{"type": "call.set_notes", "id": "n", "data": {"call_id": 1, "notes": "%s"}}'
    for text in ("[" * (MAX_BYTES - 1), notes % "a\\u0000b", notes % "\\udc80"):
        await ws.send_str(text)
        message = await message_until(ws, lambda f: f["type"] == "error")
        assert message["type"] == "error" and message["data"]["code"] == "bad_json", message
    await _still_serving(ws)
    await ws.close()
    _no_traceback(server)
