"""On a machine without what the browser tests need, they skip with one line saying how
to get it (tests/e2e/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import missing_for_browser_tests, skip_reason

ROOT = Path(__file__).resolve().parents[2]
E2E = ("tests/e2e",)


def test_the_reason_names_each_missing_piece_and_how_to_get_it(tmp_path: Path) -> None:
    missing = missing_for_browser_tests(
        chromium=tmp_path / "chromium",
        kamailio=tmp_path / "kamailio",
        database_vendor="sqlite",
        redis_url="",
    )
    reason = skip_reason(missing)
    assert "apt-get install chromium" in reason
    assert "apt-get install kamailio kamailio-websocket-modules" in reason
    assert "PostgreSQL" in reason and "Redis" in reason
    assert ".ci/run" in reason
    assert "\n" not in reason


def test_nothing_is_missing_on_a_machine_set_up_for_them(tmp_path: Path) -> None:
    for tool in ("chromium", "kamailio"):
        (tmp_path / tool).touch()
    assert (
        missing_for_browser_tests(
            chromium=tmp_path / "chromium",
            kamailio=tmp_path / "kamailio",
            database_vendor="postgresql",
            redis_url="redis://127.0.0.1:6379/0",
        )
        == []
    )


def test_without_postgresql_and_redis_the_browser_tests_skip_in_one_line(
    tmp_path: Path,
) -> None:
    scrubbed = {"DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME", "PYTEST_ADDOPTS"}
    env = {key: value for key, value in os.environ.items() if key not in scrubbed}
    env["VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "e2e", "-q", "-rs", "-p", "no:cacheprovider", *E2E],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, output
    assert "tests/e2e/conftest.py" in skipped[0] and "PostgreSQL" in skipped[0], output
    assert "passed" not in result.stdout.splitlines()[-1], output
