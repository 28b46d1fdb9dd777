"""Server processes started apart (Daphne, the bridge) sharing the test database and Redis,
and WebSocket clients that reach them the way a browser does: a JWT, a ticket, a socket.
Shared by the multi-process tests and the drills.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.realtime.servers import ROOT

PASSWORD = "demo-pass-2026"  # seed_demo's
Message = dict[str, Any]


class Processes:
    """Child processes sharing one environment; stopped (and reaped) at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], **extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **extra}, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


async def until_healthy(session: aiohttp.ClientSession, base: str, procs: Processes) -> None:
    for _ in range(300):
        try:
            async with session.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        if any(p.poll() is not None for p in procs.procs):
            raise AssertionError(f"a process died: {[p.args for p in procs.procs]}")
        await asyncio.sleep(0.1)  # polling a port coming up: there is no event to await
    raise AssertionError(f"{base} did not come up")


class Console:
    """A WebSocket client that keeps every message and waits for the one it wants."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[Message] = []

    async def until(
        self, match: Callable[[Message], bool], since: int = 0, timeout: float = 90
    ) -> Message:
        """The first message from index ``since`` on that matches, waiting for it if need be."""
        for message in self.messages[since:]:
            if match(message):
                return message
        try:
            async with asyncio.timeout(timeout):
                return await self._next_match(match)
        except TimeoutError:
            seen = [f["type"] for f in self.messages]
            raise AssertionError(f"no matching message in {timeout} s; got {seen}") from None

    async def _next_match(self, match: Callable[[Message], bool]) -> Message:
        while True:
            msg = await self.ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            message = json.loads(msg.data)
            self.messages.append(message)
            if match(message):
                return message


async def open_stream(
    http: aiohttp.ClientSession, base: str, username: str, stream: str
) -> Console:
    console = Console(await connect_stream(http, base, username, stream))
    await console.until(lambda f: f["type"] == "snapshot")
    return console


async def connect_stream(
    http: aiohttp.ClientSession, base: str, username: str, stream: str
) -> aiohttp.ClientWebSocketResponse:
    async with http.post(
        f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["access"]
    async with http.post(
        f"{base}/api/v1/realtime/ticket/", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status == 201, await resp.text()
        ticket = (await resp.json())["ticket"]
    ws_url = base.replace("http://", "ws://") + f"/ws/{stream}/?ticket={ticket}"
    return await http.ws_connect(ws_url, origin=base)
