"""Rates ("600/minute") and fixed-window counters in Django's cache, shared by every
process that shares the cache (Redis when ``REDIS_URL`` is set: a request's buckets are
counted in one round trip). The REST throttle that uses them is
contactcenter/api/throttling.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
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


def count_requests(buckets: list[tuple[Rate, str]], now: float) -> float | None:
    """Count one request in each bucket, in order; None when all are within their
    limits, else the seconds until the first refusing bucket's window ends. A request
    refused by one bucket is not counted in the buckets after it (a client refused its
    own share does not spend its organization's)."""
    keyed = [
        (rate, f"{settings.RATE_LIMITS_KEY_PREFIX}:{name}:{rate.seconds}:{window}", window)
        for rate, name in buckets
        for window in [int(now // rate.seconds)]
    ]
    backend = caches["default"]
    redis = backend if isinstance(backend, RedisCache) else None
    counts = _redis_counts(redis, keyed) if redis is not None else None
    for at, (rate, key, window) in enumerate(keyed):
        count = counts[at] if counts is not None else _cache_count(backend, key, rate)
        if count > rate.limit:
            if redis is not None:
                _redis_uncount(redis, [key for _, key, _ in keyed[at + 1 :]])
            return max(1.0, (window + 1) * rate.seconds - now)
    return None


def _ttl(rate: Rate) -> int:
    # The key outlives its window a little, so a late count never recreates it.
    return rate.seconds + 5


def _pipeline(backend: RedisCache) -> Any:
    # Django's Redis cache keeps its redis-py client here (not a public attribute).
    return backend._cache.get_client(write=True).pipeline(transaction=False)  # type: ignore[attr-defined]


def _redis_counts(backend: RedisCache, keyed: list[tuple[Rate, str, int]]) -> list[int]:
    """Every bucket counted in one round trip (SET NX EX, then INCR, per key)."""
    pipe = _pipeline(backend)
    for rate, key, _ in keyed:
        pipe.set(key, 0, ex=_ttl(rate), nx=True)
        pipe.incr(key)
    results = pipe.execute()
    return [int(count) for count in results[1::2]]


def _redis_uncount(backend: RedisCache, keys: list[str]) -> None:
    if keys:
        pipe = _pipeline(backend)
        for key in keys:
            pipe.decr(key)
        pipe.execute()


def _cache_count(backend: BaseCache, key: str, rate: Rate) -> int:
    """Any other cache (the embedded default's local memory): add, then incr."""
    backend.add(key, 0, timeout=_ttl(rate))
    try:
        return int(backend.incr(key))
    except ValueError:  # expired between add and incr: this request opens it again
        backend.add(key, 1, timeout=_ttl(rate))
        return 1
