"""Real Daphne processes on the test database, for tests that need a real socket.

The channels test communicator never goes through Daphne and autobahn, where close
codes are checked and messages are limited: what a browser sees comes only from here.
Clients authenticate with tickets signed with the test process's SECRET_KEY, which the
servers are given.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from django.conf import settings
from django.db import connection

from contactcenter.models import User
from realtime.tickets import ticket_issue

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daphne:
    """One server process; ``log`` is what it wrote (stdout and stderr)."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server on this test's database (committed rows only: use
    ``django_db(transaction=True)``) with the test process's secret key."""
    db = connection.settings_dict
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "REALTIME_", "AMI_"))
    }
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        # The test process's keys: a server reads the secrets the test wrote.
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        DJANGO_DEBUG="false",
        CELERY_TASK_ALWAYS_EAGER="true",
        # As in process (tests/conftest.py): who may read the schema is tested apart.
        API_DOCS_PUBLIC="true",
    )
    env.update(extra)
    return env


@contextmanager
def daphne(
    tmp_path: Path, name: str = "daphne", args: list[str] | None = None, **env: str
) -> Iterator[Daphne]:
    """A Daphne process serving ``config.asgi:application``, stopped at the end."""
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    executable = str(Path(sys.executable).with_name("daphne"))
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                executable,
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                *(args or []),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=server_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Daphne(proc, port, log_path)
    try:
        yield server
    finally:
        server.stop()


async def until_up(server: Daphne) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"{server.base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if server.proc.poll() is not None:
                raise AssertionError(f"the server died:\n{server.log()}")
            await asyncio.sleep(0.1)  # polling a port coming up: there is no event to await
    raise AssertionError(f"{server.base} did not come up:\n{server.log()}")


def ticket_for(user: User) -> str:
    return ticket_issue(user_id=user.pk)


async def ws_open(
    http: aiohttp.ClientSession,
    server: Daphne,
    path: str,
    *,
    user: User | None = None,
    origin: str | None = "",
    **kwargs: Any,
) -> aiohttp.ClientWebSocketResponse:
    """A socket to ``path`` (``?ticket=`` added for ``user``); ``origin`` None sends no
    Origin, "" the server's own."""
    url = f"{server.ws_base}{path}"
    if user is not None:
        url += ("&" if "?" in url else "?") + f"ticket={ticket_for(user)}"
    headers = {} if origin is None else {"Origin": origin or server.base}
    return await http.ws_connect(url, headers=headers, autoping=True, **kwargs)


async def next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float = 15) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, (msg, ws.close_code)
    message: dict[str, Any] = json.loads(msg.data)
    return message


async def message_until(
    ws: aiohttp.ClientWebSocketResponse, match: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The next message that matches (events in between, e.g. presence, are skipped)."""
    while not match(message := await next_message(ws)):
        pass
    return message


async def close_code(ws: aiohttp.ClientWebSocketResponse, timeout: float = 15) -> int | None:
    """Read until the server closes; its close code (messages before it are dropped)."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
