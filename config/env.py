"""Small typed readers for 12-factor settings.

Every setting the project reads from the environment goes through here, so the
configuration reference (docs/configuration.md) has one place to be checked against.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_gc_thresholds(name: str, default: str) -> list[int]:
    """Three garbage-collector thresholds (``gc.set_threshold``) as "a,b,c"; an empty
    value: none (Python's own)."""
    parts = [part.strip() for part in os.environ.get(name, default).split(",")]
    if not any(parts):
        return []
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ImproperlyConfigured(f"{name} takes three integers, or nothing.")
    return [int(part) for part in parts]
