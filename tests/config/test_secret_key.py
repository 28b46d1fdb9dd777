"""No secret key in the source: outside production, without DJANGO_SECRET_KEY, each
installation makes its own on first run and keeps it across restarts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import installation_secret_key

ROOT = Path(__file__).resolve().parents[2]
OLD_PUBLIC_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop"


def _settings_key(var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """SECRET_KEY as a fresh process (a server restart) reads it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VAR_DIR"))}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_first_run_makes_a_private_key_that_restarts_keep(tmp_path: Path) -> None:
    first = _settings_key(tmp_path)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and key != OLD_PUBLIC_KEY
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _settings_key(tmp_path).stdout.strip() == key  # the restart
    # Another installation has another key.
    assert _settings_key(tmp_path / "other").stdout.strip() != key


def test_a_given_key_wins_and_production_still_requires_one(tmp_path: Path) -> None:
    given = _settings_key(tmp_path, DJANGO_SECRET_KEY="k" * 50)
    assert given.stdout.strip() == "k" * 50
    assert not (tmp_path / "secret_key").exists()
    production = _settings_key(
        tmp_path, DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="x", DATABASE_URL="sqlite://"
    )
    assert production.returncode != 0 and "DJANGO_SECRET_KEY" in production.stderr


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: installation_secret_key(tmp_path), range(32)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no drafts left


def test_the_old_public_key_is_gone_from_the_source() -> None:
    sources = [ROOT / "config" / "settings.py", *(ROOT / "config" / "settings_parts").glob("*.py")]
    assert len(sources) > 2
    for path in sources:
        text = path.read_text()
        assert OLD_PUBLIC_KEY not in text, path
        assert "dev-only" not in text, path


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_key_file_stops_the_start_with_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ImproperlyConfigured, match="secret_key is empty"):
        installation_secret_key(tmp_path)
