"""The bridge for the drills: in this process (AmiBridge on a chosen port), or as the
``run_bridge`` process operators run, on the test database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from asgiref.sync import sync_to_async
from django.db import connection, connections

from telephony.ami.bridge import AmiBridge, BridgeSettings
from telephony.ami.client import AmiEndpoint
from telephony.ami.targets import BridgeTarget
from telephony.cel.source import CelSource
from tests.telephony.bridge_harness import CONNECTION, demo_organization
from tests.telephony.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
# Quick to notice a dead connection (half-open: a Ping unanswered for 0.3 s), quick back.
QUICK = BridgeSettings(
    ping_interval=0.3,
    ping_timeout=0.3,
    backoff_initial=0.05,
    backoff_max=0.2,
    resync_wait=0.2,
    action_timeout=10.0,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def bridge_in_process(
    port: int, settings: BridgeSettings = QUICK, *, cel: CelSource | None = None
) -> AsyncIterator[AmiBridge]:
    """An AmiBridge logged in to the AMI server on ``port``; stopped on exit. ``cel``:
    the PBX's logs it reads after every reconnect (none by default)."""
    org_id = await demo_organization()
    endpoint = AmiEndpoint(host="127.0.0.1", port=port, username="bridge", secret=SECRET)
    bridge = AmiBridge(
        # The drill is the operator here: its PBX on loopback is its own choice.
        BridgeTarget(
            endpoint=endpoint,
            organization_id=org_id,
            connection_key=CONNECTION,
            trusted=True,
            cel=cel,
        ),
        settings,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        yield bridge
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await sync_to_async(connections.close_all)()


class BridgeProcess:
    """``manage.py run_bridge`` against the AMI server on ``ami_port``, writing to the
    test database. Its database sessions carry ``application_name`` (PGAPPNAME), so a
    drill can find and cut exactly those."""

    def __init__(self, ami_port: int, log: Path, **env: str) -> None:
        db = connection.settings_dict
        self.app_name = f"drill-bridge-{os.getpid()}"
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AMI_", "PG"))
        }
        self.env = {
            **base,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DJANGO_DEBUG": "false",
            "AMI_URL": f"ami://bridge:{SECRET}@127.0.0.1:{ami_port}",
            "PGAPPNAME": self.app_name,
            **env,
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_bridge"],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()

    def children(self) -> set[int]:
        """The process ids of its children (its frame-rendering worker), from /proc."""
        assert self.proc is not None
        found: set[int] = set()
        for listing in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            found |= {int(pid) for pid in listing.read_text().split()}
        return found

    def kill(self) -> None:
        """SIGKILL: no clean-up, whatever it held in memory is gone."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def process_gone(pid: int) -> bool:
    """Exited (or exited and waiting to be reaped: a zombie holds nothing)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status
