"""What a request gets when no view answers it: the API's error shape under /api/, a
page elsewhere, in every mode.

DRF views answer their own errors in drf-standardized-errors' shape (including an
exception they raise, with DEBUG on too: ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS).
What reaches no DRF view:

- a path that matches no URL. With DEBUG off Django answers it with ``handler404``;
  with DEBUG on, with its debug page listing every URL pattern, and no handler is
  asked. So the last pattern under /api/ sends every unknown API path to
  :class:`ApiNotFound`, a DRF view, which answers alike in both modes.
- a refusal or an exception outside a DRF view (a middleware, a plain Django view):
  the handlers below (config/urls.py) with DEBUG off. With DEBUG on Django shows its
  traceback page, which is what the developer who turned it on wants.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import escape_leading_slashes
from django.views import defaults
from drf_standardized_errors.settings import package_settings
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

API_PREFIX = "/api/"
API_NOT_FOUND = "api-not-found"  # the URL name of the catch-all


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(request: HttpRequest, exc: exceptions.APIException) -> JsonResponse:
    """``exc`` as the API's error body, formatted by drf-standardized-errors' formatter
    (the one every DRF view's error goes through)."""
    context: Any = {"request": request, "view": None}
    body = package_settings.EXCEPTION_FORMATTER_CLASS(exc, context, exc).run()
    return JsonResponse(body, status=exc.status_code)


def _page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    context = {"status": status, "message": message}
    return render(request, "realtime/problem.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(request, exceptions.ParseError("The request was malformed."))
    return _page(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(request, exceptions.PermissionDenied())
    return _page(request, 403, "You are not allowed to see this page.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(request, exceptions.NotFound())
    return _page(request, 404, "There is no page at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_error(request, exceptions.APIException("Server Error (500)"))
    # Django's: renders 500.html with no context, so nothing that failed (the session,
    # the database) is asked again while the error is shown.
    return defaults.server_error(request)


def _with_slash(request: HttpRequest) -> str | None:
    """The URL with a slash appended when that is an API view (APPEND_SLASH, as Django's
    CommonMiddleware would redirect without the catch-all matching first)."""
    if not settings.APPEND_SLASH or request.path_info.endswith("/"):
        return None
    try:
        match = resolve(f"{request.path_info}/", getattr(request, "urlconf", None))
    except Resolver404:
        return None
    if match.url_name == API_NOT_FOUND:
        return None
    return escape_leading_slashes(request.get_full_path(force_append_slash=True))


class ApiNotFound(APIView):
    """Every path under /api/ that no API view matched: 404 in the API's shape.

    A known path without its trailing slash is redirected (GET, HEAD) as before;
    another method gets a 404 naming the right URL (a redirect would lose the body)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)
    schema = None  # not an operation of the API

    def _answer(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = _with_slash(request._request)
        if target and request.method in ("GET", "HEAD"):
            return Response(status=301, headers={"Location": target})
        if target:
            raise exceptions.NotFound(f"Not found. Did you mean {target} (with the slash)?")
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = _answer
