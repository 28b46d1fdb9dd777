"""``Authorization: Api-Key <key>`` on the REST API (contactcenter/services/apikeys.py).

A key authenticates as ``APIKeyPrincipal`` (``request.user``: no person, no model
row) with the key as ``request.auth``. ``request_membership`` (permissions.py) gives
it a membership of its organization with its role and no user, so every tenant filter
treats it as such a member. It is accepted by DRF views only: the admin, the pages
and the WebSockets authenticate by session (or ticket) and never read this header.
Within the API, some resources belong to a person and refuse keys outright
(``KEY_REFUSED``: signing in, the WebSocket ticket, one's own profile, notifications,
invitations, the softphone's token, and the keys themselves, so a key cannot make
another); and a key may read, never write, the members and the organization's settings
(``KEY_READ_ONLY``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from contactcenter.models import APIKey
from contactcenter.services.apikeys import api_key_authenticate, api_key_touch
from contactcenter.services.signin import client_address

KEYWORD = b"api-key"
API_PREFIX = "/api/v1/"
KEY_REFUSED = frozenset(
    {
        "api-keys",
        "auth",
        "invitations",
        "me",
        "notification-preferences",
        "notifications",
        "realtime",
        "telephony",
    }
)
# Read by keys, never written: the organization's people (accounts with passwords and
# roles) and its own settings (its audit retention among them). A key that could make an
# admin, or promote one, could leave its holder a person's sign-in, and new keys, that
# outlive its revocation; one that could shorten the retention could have the trail of
# what it did purged.
KEY_READ_ONLY = frozenset({"members", "organization"})


class APIKeyPrincipal:
    """The caller behind an API key: authenticated, not a person (no pk, no staff)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    auth_epoch = None

    def __init__(self, api_key: APIKey) -> None:
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix} ({self.api_key.name})"


class APIKeyAuthentication(BaseAuthentication):
    """DRF authentication for ``Authorization: Api-Key <prefix>.<secret>``."""

    def authenticate(self, request: Request) -> tuple[APIKeyPrincipal, APIKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Give the key as 'Authorization: Api-Key <key>'.", code="api_key_invalid"
            )
        try:
            text = parts[1].decode("ascii")
        except UnicodeDecodeError:
            text = ""
        api_key = api_key_authenticate(text) if text else None
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "The API key is not valid: unknown, revoked or expired.", code="api_key_invalid"
            )
        api_key_touch(api_key=api_key, address=client_address(request))
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"


def is_api_key(request: Request) -> bool:
    return isinstance(getattr(request, "auth", None), APIKey)


def resource_of(path: str) -> str:
    """The resource a request path is on: the segment after /api/v1/ ("" for others)."""
    if not path.startswith(API_PREFIX):
        return ""
    return path[len(API_PREFIX) :].split("/", 1)[0]


_SEGMENT = re.compile(r"\^?([a-z0-9][a-z0-9-]*)")


@functools.cache
def api_resources() -> frozenset[str]:
    """The resources a key may be given write access to: the first path segments of
    the REST API (read from the URLconf under /api/v1/), less those that refuse keys and
    those keys only read."""
    found: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                match = _SEGMENT.match(route)
                if match:
                    found.add(match.group(1))

    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and str(top.pattern) == API_PREFIX.lstrip("/"):
            walk(top.url_patterns, "")
    return frozenset(found - KEY_REFUSED - KEY_READ_ONLY)


class APIKeyScheme(OpenApiAuthenticationExtension):
    """The key in the OpenAPI schema (drf-spectacular): an ``Authorization`` header."""

    target_class = APIKeyAuthentication
    name = "apiKeyAuth"

    def get_security_requirement(
        self, auto_schema: Any
    ) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        # Not offered where keys are refused (a person's endpoints): no requirement.
        if resource_of(getattr(auto_schema, "path", "")) in KEY_REFUSED:
            return []
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organization's API key: 'Api-Key <key>'.",
        }
