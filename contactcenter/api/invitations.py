"""Invitations of the caller's organization: admins invite, list, send again, revoke.

The token never appears here: it exists only in the e-mailed link (services/invitations.py).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.organization import organization_username
from contactcenter.api.permissions import ADMIN_ONLY
from contactcenter.api.tenancy import TenantRelatedField, TenantViewSetMixin
from contactcenter.enums import InvitationStatus, Role
from contactcenter.models import Agent, Invitation
from contactcenter.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
)


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    status = serializers.SerializerMethodField()
    email_sent = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "username",
            "first_name",
            "last_name",
            "role",
            "agent",
            "status",
            "expires_at",
            "invited_by",
            "created_at",
            "email_sent",
            "sent_at",
            "send_error",
            "accepted_at",
            "user",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_status(self, obj: Invitation) -> InvitationStatus:
        return InvitationStatus(obj.status_at(timezone.now()))

    def get_email_sent(self, obj: Invitation) -> bool:
        return obj.sent_at is not None


class InvitationCreateSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Over REST, the person signs in as username@<organization slug> (the "
        "suffix is added when missing), as for members: names never collide with "
        "another organization's, and an answer never says that one exists there.",
    )
    role = serializers.ChoiceField(choices=Role.choices)
    first_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    agent = TenantRelatedField(Agent, required=False, allow_null=True, default=None)


class InvitationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Invitation],
):
    """Admins only: an invitation creates a member, with the role it names."""

    queryset = Invitation.objects.select_related("agent")
    serializer_class = InvitationSerializer
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    filterset_fields = ["role"]
    search_fields = ["email", "username", "first_name", "last_name"]
    ordering_fields = ["created_at", "expires_at", "username"]
    http_method_names = ["get", "post", "head", "options"]

    def _answer(self, invitation: Invitation, code: int = status.HTTP_200_OK) -> Response:
        invitation.refresh_from_db()  # the e-mail's outcome was written after commit
        return Response(InvitationSerializer(invitation).data, status=code)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Invite a person by e-mail: they get a one-time link to choose their password."""
        data = InvitationCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        organization = self.membership.organization
        username = organization_username(organization, data.validated_data["username"])
        if len(username) > 150:
            raise serializers.ValidationError(
                {"username": [f"At most {150 - len(organization.slug) - 1} characters."]}
            )
        issued = invitation_create(
            organization=organization,
            invited_by=self.membership.user,
            base_url=request.build_absolute_uri("/"),
            **{**data.validated_data, "username": username},
        )
        return self._answer(issued.invitation, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """A new link by e-mail (the previous one stops working) and a new expiry."""
        issued = invitation_resend(
            invitation=self.get_object(), base_url=request.build_absolute_uri("/")
        )
        return self._answer(issued.invitation)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw the invitation: its link stops working."""
        return self._answer(invitation_revoke(invitation=self.get_object()))
