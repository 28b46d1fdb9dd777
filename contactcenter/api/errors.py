"""Consistent error bodies for every API error (drf-standardized-errors' format).

``{"type": "validation_error", "errors": [{"code": ..., "detail": ..., "attr": ...}]}``
for 400s, and the same shape with ``client_error`` / ``server_error`` otherwise.
ApplicationError and Django's model ValidationError are turned into that shape here,
so a rule broken deep in a service answers 400 with a field, never 500. A body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 and Django's other refusals of a request
(too many fields or files) a 400, in the same shape, before any view code runs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed

from contactcenter.errors import ApplicationError


class _ApplicationAPIError(exceptions.APIException):
    def __init__(self, error: ApplicationError) -> None:
        super().__init__(detail=error.message, code=error.code)
        self.status_code = error.status


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _one_jwt_error(exc: JWTAuthenticationFailed) -> exceptions.APIException:
    """simplejwt's refusals carry a dict (``detail``, ``code`` and, for a token no token
    class accepted, one entry per class tried), which the error format flattened into one
    error per key: five for a garbage token. One error, with the same code, instead."""
    detail: Any = exc.detail
    if not isinstance(detail, dict):
        return exc
    code = str(detail.get("code", exc.default_code))
    text = "The token is invalid or expired." if "messages" in detail else detail.get("detail")
    one = exceptions.AuthenticationFailed(str(text or exc.default_detail), code=code)
    # Set by the view on the exception it caught: the WWW-Authenticate challenge (or 403
    # when the view has none).
    one.status_code = exc.status_code
    one.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
    return one


class ProjectExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, JWTAuthenticationFailed):
            return _one_jwt_error(exc)
        if isinstance(exc, ApplicationError):
            if exc.status == 400:
                detail: Any = {exc.field: [exc.message]} if exc.field else [exc.message]
                return exceptions.ValidationError(detail=detail, code=exc.code)
            if exc.status == 404:
                return exceptions.NotFound(exc.message)
            if exc.status == 403:
                return exceptions.PermissionDenied(exc.message)
            return _ApplicationAPIError(exc)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(detail=as_serializer_error(exc))
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, SuspiciousOperation):  # TooManyFieldsSent, TooManyFilesSent...
            return exceptions.ParseError(str(exc))
        return super().convert_known_exceptions(exc)
