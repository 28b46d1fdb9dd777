"""Redis restarted mid-stream: the bridge keeps storing, consoles reconnect (as the
browser's live.js does) and converge on a fresh snapshot, no record is lost.

A private redis-server on a free port (the shared one is never touched) carries the
channel layer of one Daphne process and of the bridge process; the AMI simulator
plays the workload. Redis is killed while a call is up and restarted later on the
same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.conf import global_settings
from django.db import connection

from contactcenter.models import Call
from tests.drills import workload as wl
from tests.drills.bridges import free_port
from tests.drills.processes import bridge_process_drill
from tests.drills.reference import by_start, clean_records
from tests.realtime.processes import Console, Processes, open_stream, until_healthy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.drill,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the processes share PostgreSQL"),
]


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def up(self) -> None:
        async def answers() -> bool:
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return True
            return False

        await wl.until(answers, what="redis-server to listen")


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


class ReconnectingConsole:
    """Like live.js: when the socket closes, open a new one (new ticket, new snapshot)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, user: str, stream: str) -> None:
        self.http, self.base, self.user, self.stream = http, base, user, stream
        self.console: Console | None = None
        self.opened = 0

    async def open(self) -> Console:
        self.console = await open_stream(self.http, self.base, self.user, self.stream)
        self.opened += 1
        return self.console

    async def until_closed(self, timeout: float = 60) -> None:
        assert self.console is not None
        ws = self.console.ws
        async with asyncio.timeout(timeout):
            while not ws.closed:
                msg = await ws.receive()
                if msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    break

    async def reopen(self, timeout: float = 60) -> Console:
        """Retry with backoff until the server takes the console again."""
        delay = 0.1
        async with asyncio.timeout(timeout):
            while True:
                try:
                    return await self.open()
                except (AssertionError, aiohttp.ClientError):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)


def _snapshot_call_ids(message: dict[str, Any]) -> list[int]:
    return [entry["call"]["id"] for entry in message["data"]["calls"]]


def _answered_call(organization_id: int, caller: str) -> int | None:
    call = (
        Call.objects.filter(
            organization_id=organization_id,
            caller_number=caller,
            answered_at__isnull=False,
            ended_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
    return call


async def test_redis_restarted_mid_stream(
    tmp_path: Path, redis: PrivateRedis, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    clean = await clean_records()
    await redis.up()
    prefix = f"drill{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": redis.url,
        "CHANNEL_LAYER_PREFIX": prefix,
        "REALTIME_KEY_PREFIX": f"{prefix}:rt",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    async with bridge_process_drill(tmp_path / "bridge.log", **env) as drill:
        db = connection.settings_dict
        base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "REALTIME_", "AMI_"))
        }
        base_env.update(
            env,
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            DJANGO_DEBUG="false",
        )
        procs = Processes(base_env, tmp_path)
        port = free_port()
        daphne = str(Path(sys.executable).with_name("daphne"))
        procs.start(
            "daphne", [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                await until_healthy(http, base, procs)
                # alice (1001) answers the blind-transfer call, later in the workload.
                alice = ReconnectingConsole(http, base, "alice", "agent")
                await alice.open()
                drill.gate.open_until(350)
                await drill.gate.held()
                await wl.until(lambda: sync_to_async(_calls)(drill.organization_id, 3))

                redis.kill()
                # The stream goes on with Redis down: the bridge must keep storing.
                drill.gate.open_until(540)
                await drill.gate.held()
                org_id = drill.organization_id
                await wl.until(
                    lambda: sync_to_async(_answered_call)(org_id, "+447700900123"),
                    what="the call answered while Redis was down, in the database",
                )
                redis.start()
                await redis.up()
                # The console's socket went down with the channel layer, or it is closed
                # now; either way the client reconnects and gets a fresh snapshot.
                await alice.until_closed()
                console = await alice.reopen()
                snapshot = await console.until(lambda f: f["type"] == "snapshot")
                live = await sync_to_async(_answered_call)(org_id, "+447700900123")
                assert _snapshot_call_ids(snapshot)[:1] == [live]
                # And it is live again: what happens next to the call (alice transfers
                # it away) reaches it.
                after = len(console.messages)
                await drill.finish()
                await console.until(_about(live), since=after, timeout=30)
                got = await drill.records()
        finally:
            procs.stop()
    assert got == clean
    assert by_start(got)[3][1]["fields"]["agent"] == "1001"
    # Publishing failed while Redis was down; storing never did (the records above).
    # Known, not asserted: the bridge logs those publish failures as "batch failed"
    # (a Redis ConnectionError) although the batch was committed. See the drills report.
    assert "database unavailable" not in drill.bridge.output()
    # Known, not asserted: for about 5 s after Redis is back, Daphne accepts a console and
    # then fails in the consumer with channels-redis's stale pooled connection
    # ("Exception inside application: Connection closed by server"); the client's retry
    # gets through once the pool has recovered. See the drills report.


def _about(call_id: int | None) -> Any:
    def match(message: dict[str, Any]) -> bool:
        data = message["data"]
        return message["type"].startswith("call.") and call_id in (
            data.get("call_id"),
            (data.get("call") or {}).get("id"),
        )

    return match


def _calls(organization_id: int, count: int) -> bool:
    return Call.objects.filter(organization_id=organization_id).count() >= count
