"""The demo runs with DEBUG off unless ``DJANGO_DEBUG=true`` asks, and still serves its
pages, their static files and the Swagger UI; errors get the site's pages.

With DEBUG on by default (as it was outside production), the demo answered /nope/ with
Django's debug page listing every URL pattern, and a traceback page with settings for
any error.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.realtime.servers import Daphne, free_port, server_env, until_up

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({"debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS}))
"""


def _settings(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    values: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return values


def test_debug_is_off_unless_asked_for() -> None:
    default = _settings()
    assert default["debug"] is False
    assert {"localhost", "127.0.0.1"} <= set(default["hosts"])  # type: ignore[arg-type]
    assert _settings(DJANGO_DEBUG="true")["debug"] is True
    assert _settings(DJANGO_ENV="test")["debug"] is False


@contextmanager
def _demo_web(tmp_path: Path) -> Iterator[Daphne]:
    """``manage.py demo --role web`` (the server ./scripts/run starts) on the test
    database, with DJANGO_DEBUG unset as in a newcomer's terminal."""
    env = server_env(API_DOCS_PUBLIC="true")  # as scripts/run sets it
    del env["DJANGO_DEBUG"]
    port = free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--role", "web", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Daphne(proc, port, log_path)
    try:
        asyncio.run(until_up(server))
        yield server
    finally:
        server.stop()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get_content_type(), refused.read()


@pytest.mark.django_db(transaction=True)
def test_the_demo_server_serves_pages_static_files_and_error_pages_with_debug_off(
    tmp_path: Path,
) -> None:
    with _demo_web(tmp_path) as server:
        base = server.base
        status, kind, page = _get(f"{base}/login/")
        assert (status, kind) == (200, "text/html")
        for asset in (b"/static/realtime/css/base.css", b"/static/realtime/favicon.svg"):
            assert asset in page
        for path, expected in (
            ("/static/realtime/css/base.css", "text/css"),
            ("/static/realtime/js/console.js", "text/javascript"),
            ("/static/realtime/favicon.svg", "image/svg+xml"),
            ("/static/admin/css/base.css", "text/css"),
            ("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", "text/css"),
            ("/favicon.ico", "image/svg+xml"),
        ):
            status, kind, _ = _get(f"{base}{path}")
            assert (status, kind) == (200, expected), path

        status, kind, docs = _get(f"{base}/api/docs/")
        assert (status, kind) == (200, "text/html")
        assert b"swagger-ui" in docs

        status, kind, missing = _get(f"{base}/nope/")
        assert (status, kind) == (404, "text/html")
        assert b"Not found" in missing and b"/static/realtime/css/base.css" in missing
        assert b"URLconf" not in missing and b"api/v1/" not in missing  # not the debug page

        status, kind, body = _get(f"{base}/api/v1/nope/")
        assert (status, kind) == (404, "application/json")
        assert json.loads(body)["errors"][0]["code"] == "not_found"
    assert "Traceback" not in server.log()
