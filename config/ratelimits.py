"""Rates ("600/minute") and fixed-window counters in Django's cache, shared by every
process that shares the cache (Redis when ``REDIS_URL`` is set). The REST throttle
that uses them is contactcenter/api/throttling.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

KINDS = ("read", "write", "export")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def parse_rate(text: str, *, setting: str) -> Rate | None:
    """``"600/minute"`` -> Rate(600, 60); ``"0"`` or ``""``: no limit."""
    text = text.strip()
    if text in {"", "0"}:
        return None
    count, _, period = text.partition("/")
    seconds = _PERIODS.get(period.strip().lower().rstrip("s"))
    if not count.strip().isdigit() or seconds is None or int(count) < 1:
        raise ImproperlyConfigured(
            f"{setting}={text!r} is not a rate: write it as <count>/<second|minute|hour|day>."
        )
    return Rate(int(count), seconds)


def count_request(rate: Rate, name: str, now: float) -> float | None:
    """Count one request in the bucket; None if it is within the limit, else the
    seconds until the window ends."""
    window = int(now // rate.seconds)
    key = f"{settings.RATE_LIMITS_KEY_PREFIX}:{name}:{rate.seconds}:{window}"
    # The key outlives its window a little, so a late incr never recreates it.
    cache.add(key, 0, timeout=rate.seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request opens it again
        cache.add(key, 1, timeout=rate.seconds + 5)
        count = 1
    if count <= rate.limit:
        return None
    return max(1.0, (window + 1) * rate.seconds - now)
