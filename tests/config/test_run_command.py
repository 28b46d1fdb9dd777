"""The README's run command (``./scripts/run``) as a newcomer runs it.

It runs in this checkout with a fresh VAR_DIR and a free PORT, reusing the checkout's
.venv (the bootstrap stamp makes the install a no-op). The test waits for the server,
logs in over REST as a demo user, sees the simulator's calls appear and reach the demo
agents, sees the bridge's metrics move, then sends SIGINT to the process group as a
terminal's Ctrl-C does and checks that every process is gone and the port is closed.

Two ways: the embedded default (one process, SQLite) and, when PostgreSQL and Redis
answer, the Redis mode (server, bridge, simulated PBX and Celery as separate processes).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from telephony.demo import DEMO_STOPPED

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(),
    reason="scripts/run uses the checkout's .venv (scripts/test or scripts/run create it)",
)


_handed_out: set[int] = set()


def _free_port() -> int:
    """A port free now and not handed out before in this run: a test takes several
    (the server's, the PBX's, the bridge's metrics) before any is bound, and the kernel
    may give a port it just gave again. (Suspected, not confirmed, in one CI run where
    the demo refused connections right after its banner: had its server and its PBX
    been given one port, the PBX could not listen and the demo would stop.)"""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _request(url: str, *, token: str = "", data: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if resp.headers.get_content_type() == "application/json" else body


def _until(
    what: str,
    probe: Callable[[], T | None],
    proc: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
) -> T:
    """Poll ``probe`` (another process's state: there is no event to await) until truthy."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except OSError:
            value = None
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"scripts/run exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s:\n{log.read_text()[-6000:]}")
        time.sleep(0.25)


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    base: str


def _clean_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AMI_", "VIRTUAL_ENV"))
        and k not in {"PYTHONPATH", "VAR_DIR", "STATIC_ROOT", "METRICS_PORT"}
    }
    # As in a new terminal: the venv is not active, the script finds its own.
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if ".venv" not in p)
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port), DEMO_LOAD_RATE="0.5")
    return env


@pytest.fixture
def start_run(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Run]]:
    runs: list[Run] = []

    def start(extra_env: dict[str, str]) -> Run:
        port = _free_port()
        log = tmp_path / "run.log"
        env = {**_clean_env(tmp_path, port), **extra_env}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["./scripts/run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a terminal job has
            )
        run = Run(proc=proc, port=port, log=log, base=f"http://127.0.0.1:{port}")
        runs.append(run)
        return run

    yield start
    for run in runs:  # a failed test must not leave the demo running
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGKILL)
            run.proc.wait()


def _metric(text: bytes, name: str) -> float | None:
    match = re.search(rb"^" + re.escape(name.encode()) + rb" ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else None


def _check_live_and_stop(run: Run, metrics_url: str = "") -> None:
    banner = _until(
        "banner", lambda: "contact center live on" in run.log.read_text(), run.proc, run.log, 300
    )
    assert banner
    text = run.log.read_text()
    for line in (
        f"{run.base}/console/",
        f"{run.base}/wallboard/",
        f"{run.base}/api/docs/",
        "supervisor",
        "alice",
        "demo-pass-2026",
    ):
        assert line in text, line

    token = _request(
        f"{run.base}/api/v1/auth/token/",
        data={"username": "supervisor", "password": "demo-pass-2026"},
    )["access"]

    # The demo contacts' past calls (seed_demo) are days old: only this run's calls.
    since = urllib.parse.quote((datetime.now(UTC) - timedelta(minutes=10)).isoformat())

    def calls() -> list[dict[str, Any]]:
        url = f"{run.base}/api/v1/calls/?page_size=100&started_after={since}"
        return list(_request(url, token=token)["results"])

    # The simulator's first call is placed as soon as the bridge logs in.
    first = _until("call from the simulator", calls, run.proc, run.log, 30)
    assert all(c["source"] == "asterisk" for c in first)
    assert all(c["callee_number"] == "+15551230000" for c in first if c["direction"] == "inbound")
    # Calls ring the demo agents (PJSIP/1001-1003), who answer.
    answered = _until(
        "call answered by a demo agent",
        lambda: [c for c in calls() if c["agent"] and c["answered_at"]],
        run.proc,
        run.log,
        60,
    )
    agents = {a["id"] for a in _request(f"{run.base}/api/v1/agents/", token=token)["results"]}
    assert {c["agent"] for c in answered} <= agents

    # The bridge's series move as events flow: on the server's /metrics in one process,
    # on the bridge's own METRICS_PORT when it is a process of its own.
    metrics: bytes = _request(metrics_url or f"{run.base}/metrics")
    assert _metric(metrics, 'cc_ami_connected{connection="asterisk:env"}') == 1.0
    received = _metric(metrics, 'cc_ami_events_received_total{connection="asterisk:env"}')
    assert received and received > 0
    lag_count = _metric(metrics, "cc_bridge_event_lag_seconds_count")
    assert lag_count and lag_count > 0

    # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
    pgid = run.proc.pid
    os.killpg(pgid, signal.SIGINT)
    assert run.proc.wait(timeout=60) == 0, run.log.read_text()[-4000:]
    deadline = time.monotonic() + 10
    while True:  # the group's last members may outlive the leader by a moment
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes left in the group after scripts/run"
        time.sleep(0.1)
    assert not _port_open(run.port)
    assert "Traceback" not in run.log.read_text(), run.log.read_text()[-4000:]


OPEN = ("queued", "ringing", "in_progress", "on_hold")


def _check_no_call_left_open(rows: list[tuple[str, str]]) -> None:
    """After Ctrl-C the calls the simulated PBX cut are ended, not left open (one stayed
    ``queued`` until the stale-call sweep, hours later)."""
    assert rows, "no call recorded"
    assert not [status for status, _ in rows if status in OPEN], rows
    # A steady trickle of calls: some were still open when the demo stopped.
    assert any(cause == DEMO_STOPPED for _, cause in rows), rows


def test_run_command_embedded_defaults(start_run: Callable[[dict[str, str]], Run]) -> None:
    run = start_run({})
    _check_live_and_stop(run)
    log = run.log.read_text()
    assert "simulated PBX (AMI) on 127.0.0.1:" in log  # one process: no run_bridge
    assert "run_bridge" not in log
    # Eager Celery used no broker, and said nothing of one.
    assert "No hostname was supplied" not in log
    # Nothing went wrong, so nothing says so: no warning (the bridge's "connection
    # closed" at Ctrl-C was one), no error, and no e-mail dumped by the console mail
    # backend (seeding the demo's past cases sent one).
    noise = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert not noise, noise
    assert "Subject:" not in log, log[:4000]
    with sqlite3.connect(run.log.parent / "var" / "db.sqlite3") as db:
        rows = db.execute("SELECT status, hangup_cause_text FROM contactcenter_call").fetchall()
    _check_no_call_left_open(rows)


def _services() -> tuple[str, str] | None:
    database, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database.startswith("postgres") or not redis_url:
        return None
    return database, redis_url


@pytest.mark.skipif(_services() is None, reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL")
def test_run_command_with_postgres_and_redis(start_run: Callable[[dict[str, str]], Run]) -> None:
    import psycopg
    import redis

    database, redis_url = _services()  # type: ignore[misc]
    name = f"test_run_{uuid.uuid4().hex[:8]}"
    admin = re.sub(r"/[^/]*$", "/postgres", database)
    # A Redis database of its own (the Celery worker must not take other runs' tasks).
    own_redis = re.sub(r"/\d*$", "", redis_url) + "/14"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        bridge_metrics = _free_port()
        run = start_run(
            {
                "DATABASE_URL": re.sub(r"/[^/]*$", f"/{name}", database),
                "REDIS_URL": own_redis,
                "AMI_PORT": str(_free_port()),
                "METRICS_PORT": str(bridge_metrics),
            }
        )
        _check_live_and_stop(run, metrics_url=f"http://127.0.0.1:{bridge_metrics}/metrics")
        log = run.log.read_text()
        assert "bridge: starting asterisk:env" in log  # run_bridge, its own process
        assert "celery@" in log
        with psycopg.connect(re.sub(r"/[^/]*$", f"/{name}", database)) as conn:
            rows = conn.execute("SELECT status, hangup_cause_text FROM contactcenter_call")
            _check_no_call_left_open(rows.fetchall())
    finally:
        redis.Redis.from_url(own_redis).flushdb()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
