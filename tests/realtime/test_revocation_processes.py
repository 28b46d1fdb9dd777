"""Revocation and sign-in limits through real Daphne processes, on PostgreSQL and Redis.

A change made through one server process (deactivation, demotion, sign-out) closes the
user's sockets held by another, over TCP, with 4401, within seconds; and a brute force
with a forged X-Forwarded-For is refused by a real server.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.conf import global_settings
from django.db import connection

from contactcenter.api.auth import TokenObtainSerializer
from contactcenter.models import Agent, User
from realtime.protocol import CloseCode
from tests.conftest import Floor
from tests.factories import PASSWORD, make_member, make_org
from tests.realtime.servers import Daphne, daphne, until_up, ws_open
from tests.realtime.support import sync

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
    ),
]

Message = dict[str, Any]
CLOSE_WITHIN = 5.0  # seconds from the change's answer to the close on the other process


def _env() -> dict[str, str]:
    prefix = f"rev{uuid.uuid4().hex[:8]}"
    return {
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": prefix,
        "REALTIME_KEY_PREFIX": f"{prefix}:rt",
        "SIGNIN_KEY_PREFIX": f"{prefix}:signin",
        "SIGNIN_FREE_FAILURES": "3",
    }


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[Daphne, Daphne]]:
    env = _env()
    with daphne(tmp_path, "daphne-a", **env) as a, daphne(tmp_path, "daphne-b", **env) as b:
        yield a, b


@sync
def _tokens(user: User) -> tuple[str, str]:
    refresh = TokenObtainSerializer.get_token(User.objects.get(pk=user.pk))
    return str(refresh.access_token), str(refresh)


async def _socket(http: aiohttp.ClientSession, server: Daphne, path: str, user: User) -> Any:
    ws = await ws_open(http, server, path, user=user)
    while (await _message(ws))["type"] != "snapshot":
        pass
    return ws


async def _message(ws: aiohttp.ClientWebSocketResponse) -> Message:
    msg = await ws.receive(timeout=15)
    assert msg.type == aiohttp.WSMsgType.TEXT, (msg, ws.close_code)
    message: Message = json.loads(msg.data)
    return message


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[list[Message], int | None]:
    """Every message until the server closes, and its close code."""
    messages = []
    while True:
        msg = await ws.receive(timeout=CLOSE_WITHIN)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return messages, ws.close_code
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        messages.append(json.loads(msg.data))


async def test_changes_on_one_process_close_the_sockets_on_the_other(
    two_servers: tuple[Daphne, Daphne], floor_a: Floor
) -> None:
    a, b = two_servers
    await until_up(a)
    await until_up(b)
    admin_access, _ = await _tokens(floor_a.admin.user)
    as_admin = {"Authorization": f"Bearer {admin_access}"}
    async with aiohttp.ClientSession() as http:
        console = await _socket(http, b, "/ws/agent/", floor_a.agent_member.user)
        board = await _socket(http, b, "/ws/wallboard/", floor_a.supervisor.user)

        # Deactivated through A: the console on B closes, and the command sent after
        # the change was answered is not carried out.
        started = time.monotonic()
        async with http.patch(
            f"{a.base}/api/v1/members/{floor_a.agent_member.pk}/",
            json={"is_active": False},
            headers=as_admin,
        ) as resp:
            assert resp.status == 200, await resp.text()
        command = {"type": "agent.set_state", "id": "late", "data": {"state": "available"}}
        await console.send_json(command)
        messages, code = await _until_closed(console)
        assert code == CloseCode.UNAUTHENTICATED
        assert time.monotonic() - started < CLOSE_WITHIN
        assert not [f for f in messages if f["type"] == "ack"], messages
        agent = await sync(Agent.objects.get)(pk=floor_a.agent.pk)
        assert agent.state == "offline"

        # Demoted to agent through A: the wallboard on B closes.
        async with http.patch(
            f"{a.base}/api/v1/members/{floor_a.supervisor.pk}/",
            json={"role": "agent"},
            headers=as_admin,
        ) as resp:
            assert resp.status == 200, await resp.text()
        _, code = await _until_closed(board)
        assert code == CloseCode.UNAUTHENTICATED

        # Signed out everywhere through B: the console on A closes, the token is dead.
        other = await sync(lambda: floor_a.other_agent.user)()
        other_console = await _socket(http, a, "/ws/agent/", other)
        access, refresh = await _tokens(other)
        async with http.post(
            f"{b.base}/api/v1/auth/logout/", json={"refresh": refresh, "all": True}
        ) as resp:
            assert resp.status == 204, await resp.text()
        _, code = await _until_closed(other_console)
        assert code == CloseCode.UNAUTHENTICATED
        async with http.get(
            f"{a.base}/api/v1/me/", headers={"Authorization": f"Bearer {access}"}
        ) as resp:
            assert resp.status == 401
    logs = a.log() + b.log()
    assert "Traceback" not in logs, logs[-3000:]


async def test_a_forged_forwarded_for_does_not_help_against_a_real_server(
    tmp_path: Path, settings: Any
) -> None:
    # The server checks passwords with the project's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = (await sync(lambda: make_member(make_org(), "agent"))()).user
    with daphne(tmp_path, **_env()) as server:
        await until_up(server)
        async with aiohttp.ClientSession() as http:

            async def sign_in(password: str, forged: str) -> int:
                async with http.post(
                    f"{server.base}/api/v1/auth/token/",
                    json={"username": user.username, "password": password},
                    headers={"X-Forwarded-For": forged},
                ) as resp:
                    return resp.status

            statuses = [await sign_in(f"guess-{n}", f"203.0.113.{n + 1}") for n in range(6)]
            assert statuses == [401, 401, 401, 401, 429, 429]
            assert await sign_in(PASSWORD, "198.51.100.1") == 429
    log = server.log()
    assert f"sign-in failed: {user.username} from 127.0.0.1 at /api/v1/auth/token/" in log
    assert "203.0.113." not in log
    assert PASSWORD not in log and "guess-" not in log
