"""What the crm viewsets share."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from contactcenter.models import User

# PUT is left out: every update is a PATCH of the fields sent, which is what the
# services implement (a PUT that silently kept omitted fields would lie).
HTTP_METHODS = ["get", "post", "patch", "delete", "head", "options"]


def request_user(request: Request) -> User | None:
    """The person calling; None for an API key (no person: the audit trail names the
    key). IsOrganizationMember has already refused anonymous requests."""
    return request.user if isinstance(request.user, User) else None


def validated(
    serializer_class: type[serializers.Serializer],
    request: Request,
    context: dict[str, Any],
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """The request body checked by an input serializer (400 with field errors if not)."""
    serializer = serializer_class(data=request.data, context=context, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
