"""The project's parts of the OpenAPI schema (drf-spectacular with drf-standardized-errors).

The schema must pass a standard validator (openapi-spec-validator, in the tests) and
generate a usable client (openapi-python-client, in the tests): these two classes fix
what the libraries alone get wrong for this API.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
)
from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers


class AutoSchema(StandardizedAutoSchema):
    def _should_add_validation_error_response(self) -> bool:
        """drf-standardized-errors documents a validation error for every list with
        django-filter filters, even when none of them can fail (a boolean filter reads
        an unknown value as "any"): the errors were then an empty ``oneOf``, which the
        OpenAPI specification forbids. Such an operation has no validation error."""
        if not super()._should_add_validation_error_response():
            return False
        fields = self._determine_fields_with_error_codes()
        return bool(self._get_validation_error_codes_by_field(fields))


class ProjectJWTScheme(SimpleJWTScheme):
    """Our JWTAuthentication (simplejwt's, with revocation) is a subclass, which
    drf-spectacular's extension for simplejwt does not match: without this the schema
    declares no bearer authentication at all. Registered by being defined (this module
    is imported as the schema class)."""

    target_class = "contactcenter.api.authentication.JWTAuthentication"


class TokenObtainSchema(TokenObtainPairSerializerExtension):
    """The same for our sign-in serializer (simplejwt's, with limits): without it the
    schema said the token endpoint answers no body, and a generated client dropped the
    tokens."""

    target_class = "contactcenter.api.auth.TokenObtainSerializer"


class ErrorCode401Enum(models.TextChoices):
    """Every code a 401 of this API carries. drf-standardized-errors lists DRF's two;
    simplejwt and our revocation add theirs, and a generated client refuses a code its
    enum does not know."""

    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_NOT_VALID = "token_not_valid"
    TOKEN_REVOKED = "token_revoked"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    PASSWORD_CHANGED = "password_changed"
    NO_ACTIVE_ACCOUNT = "no_active_account"


class Error401Serializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=ErrorCode401Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse401Serializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    # The field is named as in the error body; it shadows Serializer.errors, as in
    # drf-standardized-errors' own serializers.
    errors = Error401Serializer(many=True)  # type: ignore[assignment]
