"""The server as a newcomer starts it: migrate, seed, daphne, on the embedded defaults.

Runs the real ASGI server in a subprocess on a fresh SQLite file and talks to it over
a real socket.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioning.demo import CONTACTS

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, resp.read()


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env["VAR_DIR"] = str(tmp_path)
    env["API_DOCS_PUBLIC"] = "true"  # as scripts/run has it for a newcomer
    manage = [sys.executable, "manage.py"]
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        done = subprocess.run(
            manage + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    daphne = Path(sys.executable).with_name("daphne")
    proc = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # polling a process's port: there is no event to await
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode is not None


def test_fresh_server_serves_docs_and_a_seeded_agent_lists_contacts(embedded_server: str) -> None:
    base = embedded_server
    status, body = _get(f"{base}/api/docs/")
    assert status == 200 and b"swagger-ui" in body
    status, body = _get(f"{base}/api/schema/")
    assert status == 200 and b"/api/v1/contacts/" in body
    # The Swagger UI's own assets come from this server.
    assert _get(f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")[0] == 200

    login = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"username": "alice", "password": "demo-pass-2026"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=10) as resp:
        token = json.load(resp)["access"]
    status, body = _get(f"{base}/api/v1/contacts/", token)
    assert status == 200
    contacts = json.loads(body)
    assert contacts["count"] == len(CONTACTS)  # every contact seed_demo creates
    status, body = _get(f"{base}/readyz")
    assert json.loads(body)["checks"] == {"database": "ok"}
