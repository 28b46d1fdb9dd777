"""Project-level checks that run the real manage.py in a subprocess, as an operator would."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.encryption import new_key

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy() -> None:
    env = _clean_env(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=new_key(),
        DJANGO_ALLOWED_HOSTS="cc.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = _clean_env(DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="cc.example.com")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_migrations_are_in_step_with_models() -> None:
    result = _manage("makemigrations", "--check", "--dry-run", env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("value", ["maybe", "2x"])
def test_bad_boolean_setting_is_a_clear_error(value: str) -> None:
    result = _manage("check", env=_clean_env(DJANGO_DEBUG=value))
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr
