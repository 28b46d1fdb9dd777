"""The caller's organization, the caller themself, and the organization's members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES, FLOOR_ROLES, request_membership
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.enums import Role
from contactcenter.models import Membership, Organization
from contactcenter.selectors.access import agent_for_membership
from contactcenter.services.organizations import (
    member_create,
    member_update,
    organization_update,
)


def _membership(request: Request) -> Membership:
    membership = request_membership(request)
    assert membership is not None  # IsOrganizationMember has let only members through
    return membership


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "time_zone",
            "default_region",
            "audit_retention_days",
            "recording_policy",
            "recording_retention_days",
            "agents_see_monitoring",
            "created_at",
        ]
        read_only_fields = ["id", "slug", "created_at"]
        extra_kwargs = {
            "audit_retention_days": {
                "min_value": 1,
                "max_value": 36500,
                "help_text": "Days audit entries are kept; null: the installation's default.",
            },
            "recording_retention_days": {
                "min_value": 1,
                "max_value": 36500,
                "help_text": "Days recordings are kept; null: until erased.",
            },
            "agents_see_monitoring": {
                "help_text": "Agents' consoles show a supervisor whispering to them or "
                "barging into their call (never one only listening).",
            },
        }


class OrganizationView(APIView):
    """The caller's own organization. Everyone reads it; admins change it."""

    read_roles = ALL_ROLES
    write_roles = ADMIN_ONLY

    @extend_schema(responses=OrganizationSerializer)
    def get(self, request: Request) -> Response:
        return Response(OrganizationSerializer(_membership(request).organization).data)

    @extend_schema(request=OrganizationSerializer, responses=OrganizationSerializer)
    def patch(self, request: Request) -> Response:
        serializer = OrganizationSerializer(
            _membership(request).organization, data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        organization = organization_update(
            organization=_membership(request).organization, **serializer.validated_data
        )
        return Response(OrganizationSerializer(organization).data)


class MeSerializer(serializers.Serializer[Any]):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    organization = OrganizationSerializer()
    agent_id = serializers.IntegerField(allow_null=True)


class MeView(APIView):
    """Who the caller is: user, role, organization and agent profile (for consoles)."""

    read_roles = ALL_ROLES

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        membership = _membership(request)
        agent = agent_for_membership(membership)
        user = membership.user
        data = {
            "user_id": user.pk,
            "username": user.username,
            "name": user.get_full_name() or user.username,
            "role": membership.role,
            "organization": membership.organization,
            "agent_id": agent.pk if agent else None,
        }
        return Response(MeSerializer(data).data)


class MemberSerializer(serializers.ModelSerializer[Membership]):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "user", "created_at"]


def organization_username(organization: Organization, username: str) -> str:
    """``username@<organization slug>``, the name a member created by an organization's
    admin signs in with. Usernames are global (one sign-in page for everyone): were the
    admin's choice taken as is, "already exists" would tell them that another
    organization has a user of that name. In their own namespace, a name is taken only
    by a member they can list anyway."""
    suffix = f"@{organization.slug}"
    return username if username.endswith(suffix) else f"{username}{suffix}"


class MemberCreateSerializer(serializers.Serializer[Any]):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Signs in as username@<organization slug> (the suffix is added when "
        "missing), so names never collide with another organization's.",
    )
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)
    # No default="": the schema would give a field of format email the default '', which
    # is not an e-mail address (OpenAPI validators refuse it). member_create defaults it.
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value


class MemberUpdateSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class MemberViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Membership],
):
    """Members of the organization: supervisors read them, admins manage them."""

    queryset = Membership.objects.select_related("user").order_by("user__username")
    serializer_class = MemberSerializer
    read_roles = FLOOR_ROLES
    write_roles = ADMIN_ONLY
    filterset_fields = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    ordering_fields = ["created_at", "user__username", "role"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = self.membership.organization
        username = organization_username(organization, data.validated_data["username"])
        if len(username) > 150:
            raise serializers.ValidationError(
                {"username": [f"At most {150 - len(organization.slug) - 1} characters."]}
            )
        values = {**data.validated_data, "username": username}
        membership = member_create(organization=organization, **values)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_update(membership=membership, **data.validated_data)
        return Response(MemberSerializer(membership).data)
