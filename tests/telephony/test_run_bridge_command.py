"""The bridge as operators run it: ``manage.py run_bridge`` against ``manage.py
ami_simulator``, two processes over TCP, writing to the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from contactcenter.models import Call

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the processes share a PostgreSQL database"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def test_run_bridge_records_the_simulators_calls_and_stops_cleanly(tmp_path: Path) -> None:
    call_command("seed_demo")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_DEBUG": "false"}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    # Files, not pipes: nobody reads a pipe until the end, and a process that logs more
    # than its buffer holds would block on it.
    simulator_log = tmp_path / "simulator.log"
    bridge_log = tmp_path / "bridge.log"
    with simulator_log.open("w") as out:  # the child keeps its own copy of the file
        simulator = subprocess.Popen(
            [
                *manage,
                "ami_simulator",
                "--port",
                str(port),
                "--secret",
                "s3",
                "--speed",
                "0",
                "--scenario",
                "answered",
                "--scenario",
                "abandoned",
                "--wait-clients",
                "1",
                "--exit-when-done",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with bridge_log.open("w") as out:
        bridge = subprocess.Popen(
            [*manage, "run_bridge"],
            cwd=ROOT,
            env={**env, "AMI_URL": f"ami://bridge:s3@127.0.0.1:{port}"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        simulator.wait(timeout=60)
        deadline = time.monotonic() + 90  # generous: CI machines are shared
        # Another process writes the rows: poll the database for them.
        # The simulator's calls: seed_demo also leaves the demo's past calls, ended days ago.
        placed = Call.objects.filter(connection_key="asterisk:env")
        while placed.exclude(ended_at=None).count() < 2:
            assert time.monotonic() < deadline, (
                "the bridge did not record the calls\n" + bridge_log.read_text()
            )
            time.sleep(0.2)
    finally:
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(timeout=30)
        if simulator.poll() is None:
            simulator.kill()
    output = bridge_log.read_text()
    assert bridge.returncode == 0, output
    assert "bridge: stopped asterisk:env" in output
    statuses = sorted(placed.values_list("status", flat=True))
    assert statuses == ["abandoned", "completed"]
