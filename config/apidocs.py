"""Who may read the OpenAPI schema (``/api/schema/``) and the Swagger UI (``/api/docs/``).

Signed-in users only unless ``API_DOCS_PUBLIC``: the schema maps every operation and
parameter of the API, which an anonymous visitor of a production server has no need
of. The demo (``scripts/run``) makes them public.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from rest_framework.permissions import BasePermission


class ApiDocsAccess(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)


@cache
def _swagger_ui() -> Any:
    # Imported here: drf_spectacular.views reads SERVE_PERMISSIONS (this module) as it
    # loads.
    from drf_spectacular.views import SpectacularSwaggerSplitView

    return SpectacularSwaggerSplitView.as_view(url_name="schema")


def swagger_ui(request: HttpRequest) -> HttpResponseBase:
    """The Swagger UI, its start-up script served apart (no inline script: the page's
    Content-Security-Policy allows none). A browser not signed in is sent to sign in."""
    if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    response: HttpResponseBase = _swagger_ui()(request)
    return response
