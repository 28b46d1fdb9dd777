"""Two ASGI server processes behind one Redis: what the bridge publishes reaches an agent
on either, and presence is the same on both.

Everything here is a real process on a real socket: two Daphne servers, the bridge
(``run_bridge``) and the AMI simulator playing one answered queue call to alice
(PJSIP/1001) on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.conf import global_settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
PASSWORD = "demo-pass-2026"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
    ),
]

Frame = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.fixture
def stack(tmp_path: Path, settings: Any) -> Iterator[tuple[Processes, dict[str, int]]]:
    # The servers check passwords with the project's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    call_command("seed_demo", verbosity=0)
    db = connection.settings_dict
    prefix = f"t2p{uuid.uuid4().hex[:8]}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "REALTIME_", "AMI_"))
    }
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="true",
        CHANNEL_LAYER_PREFIX=prefix,
        REALTIME_KEY_PREFIX=f"{prefix}:rt",
        REALTIME_PRESENCE_GRACE_SECONDS="1",
        DJANGO_DEBUG="false",
    )
    procs = Processes(env, tmp_path)
    ports = {"a": _free_port(), "b": _free_port(), "ami": _free_port()}
    daphne = str(Path(sys.executable).with_name("daphne"))
    try:
        for name in ("a", "b"):
            procs.start(
                f"daphne-{name}",
                [daphne, "-b", "127.0.0.1", "-p", str(ports[name]), "config.asgi:application"],
            )
        yield procs, ports
    finally:
        procs.stop()


async def _until_up(session: aiohttp.ClientSession, base: str, procs: Processes) -> None:
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
    """A WebSocket client that keeps every frame and waits for the one it wants."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[Frame] = []

    async def until(
        self, match: Callable[[Frame], bool], since: int = 0, timeout: float = 90
    ) -> Frame:
        """The first frame from index ``since`` on that matches, waiting for it if need be."""
        for frame in self.frames[since:]:
            if match(frame):
                return frame
        try:
            async with asyncio.timeout(timeout):
                return await self._next_match(match)
        except TimeoutError:
            seen = [f["type"] for f in self.frames]
            raise AssertionError(f"no matching frame in {timeout} s; got {seen}") from None

    async def _next_match(self, match: Callable[[Frame], bool]) -> Frame:
        while True:
            msg = await self.ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if match(frame):
                return frame


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _open(http: aiohttp.ClientSession, base: str, username: str, stream: str) -> Console:
    console = Console(await _connect(http, base, username, stream))
    await console.until(lambda f: f["type"] == "snapshot")
    return console


async def _connect(
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


def _online(agent_id: int, online: bool) -> Callable[[Frame], bool]:
    def match(frame: Frame) -> bool:
        if frame["type"] == "snapshot":
            return (agent_id in frame["data"]["online_agent_ids"]) is online
        return frame["type"] == "agent.presence" and frame["data"] == {
            "agent_id": agent_id,
            "online": online,
        }

    return match


def _call(kind: str, number: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == kind and f["data"]["call"]["caller_number"] == number


async def test_bridge_events_and_presence_across_two_server_processes(
    stack: tuple[Processes, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    procs, ports = stack
    a, b = (f"http://127.0.0.1:{ports[name]}" for name in ("a", "b"))
    await _until_up(http, a, procs)
    await _until_up(http, b, procs)

    board_a = await _open(http, a, "supervisor", "wallboard")
    board_b = await _open(http, b, "supervisor", "wallboard")
    alice = await _open(http, a, "alice", "agent")
    alice_id = (await alice.until(lambda f: f["type"] == "snapshot"))["data"]["agent"]["id"]
    # The console is on A; the wallboard on B hears the agent come online as A's does.
    await board_a.until(_online(alice_id, True))
    await board_b.until(_online(alice_id, True))

    # A refusal reaches a real client as its documented close code (not 1006 or 1011).
    refused = await _connect(http, b, "alice", "wallboard")
    closing = await refused.receive(timeout=30)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 4403)

    await alice.ws.send_json(
        {"type": "agent.set_state", "id": "s1", "data": {"state": "available", "reason": ""}}
    )
    await alice.until(lambda f: f["type"] == "ack" and f["data"]["id"] == "s1")

    secret = uuid.uuid4().hex
    manage = [sys.executable, "manage.py"]
    simulator = ["--port", str(ports["ami"]), "--secret", secret, "--wait-clients", "1"]
    procs.start(
        "simulator",
        [*manage, "ami_simulator", *simulator, "--scenario", "answered", "--speed", "40"],
    )
    procs.start(
        "bridge",
        [*manage, "run_bridge"],
        AMI_URL=f"ami://bridge:{secret}@127.0.0.1:{ports['ami']}",
        AMI_ORGANIZATION="acme",
    )

    # The bridge is its own process; alice's console on A gets the whole call.
    caller = "+15557654321"
    ringing = await alice.until(_call("call.ringing", caller))
    assert ringing["data"]["leg"] == "offered"
    answered = await alice.until(_call("call.answered", caller))
    assert answered["data"]["call"]["agent_id"] == alice_id
    ended = await alice.until(_call("call.ended", caller))
    assert ended["data"]["call"]["status"] == "completed"
    call_id = ended["data"]["call"]["id"]

    # Both wallboards count the same answered call in the support queue.
    def support(frame: Frame) -> dict[str, Any] | None:
        if frame["type"] != "wallboard.update":
            return None
        return next((q for q in frame["data"]["queues"] if q["queue_name"] == "Support"), None)

    def counted(frame: Frame) -> bool:
        queue = support(frame)
        return queue is not None and queue["answered"] == 1

    seen_a = support(await board_a.until(counted))
    seen_b = support(await board_b.until(counted))
    assert seen_a is not None and seen_b is not None
    assert seen_a["offered"] == seen_b["offered"] == 1

    # A second console for alice on B, then A's closes: she stays online (one is left).
    alice_b = await _open(http, b, "alice", "agent")
    snapshot_b = await alice_b.until(lambda f: f["type"] == "snapshot")
    assert snapshot_b["data"]["online"] is True
    assert [e["call"]["id"] for e in snapshot_b["data"]["calls"]] == [call_id]
    await alice.ws.close()
    # Proving a non-event takes time: an offline would be announced 1 s (the grace) after.
    await asyncio.sleep(2.5)
    await board_b.ws.send_json({"type": "ping", "id": "p1", "data": {}})
    await board_b.until(lambda f: f["type"] == "pong")
    assert [f["data"]["online"] for f in board_b.frames if f["type"] == "agent.presence"] == [True]
    # Closing the last console (on B) turns her offline on both, once, after the grace.
    marks = len(board_a.frames), len(board_b.frames)
    await alice_b.ws.close()
    await board_a.until(_online(alice_id, False), since=marks[0])
    await board_b.until(_online(alice_id, False), since=marks[1])
    going_offline = [f for f in board_b.frames if f["type"] == "agent.presence"]
    assert [f["data"]["online"] for f in going_offline] == [True, False]
    for console in (board_a, board_b):
        await console.ws.close()
    assert "Traceback" not in procs.log("bridge") + procs.log("daphne-a") + procs.log("daphne-b")
