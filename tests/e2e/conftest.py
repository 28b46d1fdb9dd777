"""The browser tests need a machine set up for them; without it they say so in one line.

Each browser test module skips itself when something is missing (its ``skipif`` marks),
which printed one line per test and reason, none of them saying how to get the test to
run. Here a browser test that would skip is skipped from one place instead, with one
reason listing everything this machine lacks for the browser tests and how to get it:
pytest's summary folds that into a single line. ``.ci/run`` installs the packages and
starts PostgreSQL and Redis, so CI runs them all.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def kamailio() -> Path:
    return Path(shutil.which("kamailio") or "/usr/sbin/kamailio")


def missing_for_browser_tests(
    *, chromium: Path, kamailio: Path, database_vendor: str, redis_url: str
) -> list[str]:
    """What this machine lacks for tests/e2e, each with how to get it."""
    missing = []
    if not chromium.exists():
        missing.append(f"Debian's chromium at {chromium} (apt-get install chromium)")
    if not kamailio.exists():
        missing.append("kamailio (apt-get install kamailio kamailio-websocket-modules)")
    if database_vendor != "postgresql":
        missing.append("PostgreSQL (on 127.0.0.1:5432, or DATABASE_URL)")
    if not redis_url:
        missing.append("Redis (on 127.0.0.1:6379, or REDIS_URL)")
    return missing


def skip_reason(missing: list[str]) -> str:
    return f"browser tests (tests/e2e) need {', '.join(missing)}; .ci/run sets up all of it"


def _would_skip(item: pytest.Item) -> bool:
    """A ``skipif`` of the test's own with a condition that holds (string conditions are
    left to pytest)."""
    for mark in item.iter_markers(name="skipif"):
        conditions = list(mark.args) or [mark.kwargs.get("condition", False)]
        if any(isinstance(c, bool) and c for c in conditions):
            return True
    return False


# First, before pytest's own skipif evaluation: the single reason replaces the many.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("e2e") is None:
        return
    if not CHROMIUM.exists() or _would_skip(item):
        from django.db import connection

        missing = missing_for_browser_tests(
            chromium=CHROMIUM,
            kamailio=kamailio(),
            database_vendor=connection.vendor,
            redis_url=os.environ.get("REDIS_URL", ""),
        )
        if missing:
            pytest.skip(skip_reason(missing))
