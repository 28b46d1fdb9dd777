"""Who acts in a web request, for the audit trail (contactcenter/services/audit.py).

The middleware makes the request the context's actor for the length of the request,
with an id for the request and the client's address. The user (or API key) is read
from the request only when an entry is recorded, because DRF authenticates in the
view, after every middleware has run. The id is the proxy's ``X-Request-ID`` when it
sent a sane one (nginx's ``$request_id``: deploy/nginx.conf), else a new one; the
response carries it back, so a support question can name the request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from contactcenter.services import audit
from contactcenter.services.signin import client_address

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_of(request: HttpRequest) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _SANE_ID.fullmatch(given) else audit.new_request_id()


class AuditContextMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _actor(self, request: HttpRequest) -> audit.Actor:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        return audit.Actor.for_request(
            request, request_id=request_id, client_address=client_address(request)
        )

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        with audit.acting(self._actor(request)) as actor:
            response: HttpResponse = self.get_response(request)
        response["X-Request-ID"] = actor.request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        with audit.acting(self._actor(request)) as actor:
            response = await get_response(request)
        response["X-Request-ID"] = actor.request_id
        return response
