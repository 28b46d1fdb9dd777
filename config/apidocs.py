"""Who may read the OpenAPI schema (``/api/schema/``), the Swagger UI (``/api/docs/``) and
the WebSocket protocol's AsyncAPI document (``/api/asyncapi/``).

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
from drf_spectacular.renderers import OpenApiYamlRenderer2
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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


class AsyncApiView(APIView):
    """The WebSocket protocol's AsyncAPI 3.0 document (``realtime.asyncapi``), under the
    OpenAPI schema's access rule: YAML, or JSON with ``?format=json``."""

    permission_classes = [ApiDocsAccess]
    renderer_classes = [OpenApiYamlRenderer2, JSONRenderer]
    schema = None  # not a REST operation: left out of the OpenAPI schema

    def get(self, request: Request) -> Response:
        # Imported here, as drf_spectacular.views above: drf-spectacular loads this
        # module (SERVE_PERMISSIONS) from its settings, which may be before the apps.
        from realtime.asyncapi import asyncapi_document

        return Response(asyncapi_document(host=request.get_host(), secure=request.is_secure()))
