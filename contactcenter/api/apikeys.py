"""API keys of the caller's organization: admins make, change, rotate and revoke them.

The key itself is in the answer to ``create`` and ``rotate`` only (services/apikeys.py).
Keys cannot manage keys (apikeys_auth.KEY_REFUSED), so a leaked key cannot outlive
its revocation by making another.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ADMIN_ONLY
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.models import APIKey, User
from contactcenter.models.apikeys import KEY_ROLES
from contactcenter.services.apikeys import (
    IssuedKey,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    api_key_update,
)


class APIKeySerializer(serializers.ModelSerializer[APIKey]):
    class Meta:
        model = APIKey
        fields = [
            "id",
            "name",
            "prefix",
            "role",
            "write_resources",
            "expires_at",
            "created_at",
            "created_by",
            "rotated_at",
            "revoked_at",
            "last_used_at",
            "last_used_address",
        ]
        read_only_fields = fields


class IssuedKeySerializer(APIKeySerializer):
    key = serializers.CharField(
        help_text="The whole key, shown this once: send it as 'Authorization: Api-Key <key>'."
    )

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class APIKeyWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=KEY_ROLES, required=False)
    write_resources = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=64,
        help_text="Resources (the path segment after /api/v1/) the key may write; none: read-only.",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class APIKeyUpdateSerializer(APIKeyWriteSerializer):
    name = serializers.CharField(max_length=100, required=False)


def _issued(issued: IssuedKey, code: int) -> Response:
    data = {**APIKeySerializer(issued.api_key).data, "key": issued.key}
    return Response(data, status=code, headers={"Cache-Control": "no-store"})


class APIKeyViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[APIKey],
):
    """Admins only. A revoked key stays listed (with ``revoked_at``) for the record."""

    queryset = APIKey.objects.all()
    serializer_class = APIKeySerializer
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    filterset_fields = ["role"]
    search_fields = ["name", "prefix"]
    ordering_fields = ["name", "created_at", "last_used_at", "expires_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=APIKeyWriteSerializer, responses={201: IssuedKeySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Make a key; the answer holds the whole key, which is never shown again."""
        data = APIKeyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(
            organization=self.membership.organization,
            created_by=request.user if isinstance(request.user, User) else None,
            **data.validated_data,
        )
        return _issued(issued, status.HTTP_201_CREATED)

    @extend_schema(request=APIKeyUpdateSerializer, responses=APIKeySerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Rename a key, or change its role, resources or expiry."""
        data = APIKeyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        api_key = api_key_update(api_key=self.get_object(), **data.validated_data)
        return Response(APIKeySerializer(api_key).data)

    @extend_schema(request=None, responses=IssuedKeySerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str | None = None) -> Response:
        """A new key for this one (same name, role and resources); the old stops now."""
        return _issued(api_key_rotate(api_key=self.get_object()), status.HTTP_200_OK)

    @extend_schema(request=None, responses=APIKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Stop the key for good."""
        return Response(APIKeySerializer(api_key_revoke(api_key=self.get_object())).data)
