"""Celery on the embedded defaults (no REDIS_URL): tasks run eagerly, and quietly.

Celery serializes an eager task through a producer on the broker; with the broker URL
``memory://`` (no host) kombu warned "No hostname was supplied. Reverting to default
'localhost'" the first time, in a demo that uses no broker at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.conf import settings
from config.celery import app

@app.task(name="tests.embedded.ping")
def ping(value):
    return value

print("eager", app.conf.task_always_eager, settings.CELERY_BROKER_URL.split(":")[0])
print("result", ping.delay(42).get())
"""


def test_an_eager_task_logs_no_broker_warning(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "LOG_"))
    }
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "eager True memory" in done.stdout
    assert "result 42" in done.stdout
    output = done.stdout + done.stderr
    assert "No hostname was supplied" not in output, output
    assert " WARNING " not in output, output
