"""The process that renders the publisher's jobs into messages (realtime.publish.Publisher).

Importable before Django is set up: a spawned worker loads this module to run its
initializer, and only then Django and the rendering code.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

PARENT_CHECK_SECONDS = 1.0


def _exit_with(parent: int) -> None:
    # A parent killed outright (SIGKILL, OOM) never stops its worker, and the worker
    # ignores the signals that would: it goes once it has been handed to another parent.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def setup(database_name: str) -> None:
    """A worker's start: Django, on the publisher's database (a test run's included)."""
    import signal

    threading.Thread(
        target=_exit_with, args=(os.getppid(),), name="parent-watch", daemon=True
    ).start()

    import django
    from django.conf import settings
    from django.db import connection

    # Its parent stops it (after the last messages): Ctrl-C reaches the whole process
    # group and systemd signals the whole unit, which must not cut a job short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    django.setup()
    settings.DATABASES["default"]["NAME"] = database_name
    connection.settings_dict["NAME"] = database_name

    # The code of the jobs, imported now so that it is frozen with the rest.
    import realtime.screens.changes  # noqa: F401
    from config.serve import freeze_startup_objects

    freeze_startup_objects()


def render(jobs: list[tuple[Callable[..., list[Any]], tuple[Any, ...]]]) -> list[list[Any]]:
    """The messages of each job, in order."""
    from config.db.work import run_retrying

    # A long-lived worker: a connection that broke or aged out is replaced (reads only, so
    # the jobs can run twice).
    return run_retrying(lambda: [job(*args) for job, args in jobs])
