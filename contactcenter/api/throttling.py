"""Rate limits on the REST API: per user and per API key, within their organization,
and for the organization as a whole; reads, writes and exports counted apart.

A request is a read (GET, HEAD, OPTIONS), a write (anything else) or an export (a view
that says ``throttle_kind = "export"``: the CSV exports). Each is counted in two
buckets: the caller's (the API key when the request carries one, else the user) and
the organization's, so one busy client cannot use up its organization's share and one
organization cannot crowd out the others. Over either limit the answer is 429 with
``Retry-After``, the seconds until the bucket's window ends.

Counters are fixed windows in Django's cache: Redis when ``REDIS_URL`` is set, so every
server process counts into the same buckets (``add`` then ``incr``, each one atomic
command). A window admits at most its limit, though a client may spend one window's
limit at its end and the next one's at its start.

Anonymous requests are not counted here: the permission refuses them first, and the
sign-in endpoints keep their own limits (contactcenter/services/signin.py, the
``auth`` scope).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from config.ratelimits import count_requests


def request_kind(request: Request, view: Any) -> str:
    declared = getattr(view, "throttle_kind", None)
    if declared is not None:
        return str(declared)
    return "read" if request.method in SAFE_METHODS else "write"


def _caller(request: Request) -> tuple[int, str] | None:
    """(organization id, caller key) of an authenticated request, None otherwise."""
    key = getattr(request, "auth", None)
    key_org, key_id = getattr(key, "organization_id", None), getattr(key, "id", None)
    if key_org is not None and key_id is not None:
        return int(key_org), f"key.{key_id}"
    from contactcenter.api.permissions import request_membership

    if not getattr(request.user, "is_authenticated", False):
        return None
    membership = request_membership(request)
    if membership is None:
        return None
    return membership.organization_id, f"user.{request.user.pk}"


class OrganizationRateThrottle(BaseThrottle):
    """The project's default throttle (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"])."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        caller = _caller(request)
        if caller is None:
            return True
        organization_id, who = caller
        kind = request_kind(request, view)
        buckets = [
            (settings.RATE_LIMITS.get(kind), f"{kind}:{organization_id}:{who}"),
            (settings.RATE_LIMITS_ORGANIZATION.get(kind), f"{kind}:{organization_id}:all"),
        ]
        self._wait = count_requests(
            [(rate, name) for rate, name in buckets if rate is not None], time.time()
        )
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
