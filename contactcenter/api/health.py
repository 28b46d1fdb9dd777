"""Health endpoints for load balancers and orchestrators.

``/healthz``: the process is up and serving (no dependencies touched).
``/readyz``: it can do its work: the database answers and, when configured, Redis too.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; say which
        logger.warning("readyz: database check failed: %s", exc)
        # The details (hosts, ports) go to the log, not to an unauthenticated caller.
        return type(exc).__name__
    return None


def _check_redis() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
        client.close()
    except Exception as exc:
        logger.warning("readyz: redis check failed: %s", exc)
        return type(exc).__name__
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    failures: dict[str, str] = {}
    db_error = _check_database()
    checks["database"] = "ok" if db_error is None else "error"
    if db_error:
        failures["database"] = db_error
    if settings.REDIS_URL:
        redis_error = _check_redis()
        checks["redis"] = "ok" if redis_error is None else "error"
        if redis_error:
            failures["redis"] = redis_error
    ready = not failures
    body: dict[str, object] = {"status": "ready" if ready else "not_ready", "checks": checks}
    if failures:
        body["errors"] = failures
    return JsonResponse(body, status=200 if ready else 503)
