"""Agents: profiles (admins), state (the agent themself or the floor), time in state."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.filtering import IsoDateTimeFilter, RelatedIdFilter, TenantFilterSet
from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES
from contactcenter.api.tenancy import TenantRelatedField, TenantViewSetMixin
from contactcenter.enums import AgentState
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, AgentStateLog, Membership, User
from contactcenter.selectors.access import is_floor_role
from contactcenter.services.agents import agent_choose_state
from contactcenter.services.organizations import agent_create, agent_update
from contactcenter.transitions import AGENT_SELECTABLE_CHOICES


class _MemberUserField(TenantRelatedField):
    """A user of the caller's organization (users are not tenant rows; memberships are)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(User, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        from contactcenter.api.tenancy import membership_from_context

        org_id = membership_from_context(self.context).organization_id
        return User.objects.filter(
            pk__in=Membership.objects.filter(organization_id=org_id).values("user_id")
        )


class AgentSerializer(serializers.ModelSerializer[Agent]):
    user = _MemberUserField(required=False, allow_null=True)
    # The softphone's SIP account: admins set it, nobody reads it back over REST; only
    # the agent's own console receives it (docs/softphone.md).
    sip_username = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=64
    )
    sip_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        style={"input_type": "password"},
    )
    softphone_configured = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "id",
            "user",
            "name",
            "extension",
            "interface",
            "state",
            "state_reason",
            "state_changed_at",
            "is_active",
            "sip_username",
            "sip_password",
            "sip_domain",
            "sip_websocket_url",
            "softphone_configured",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"interface": {"required": False, "allow_blank": True}}
        read_only_fields = [
            "id",
            "state",
            "state_reason",
            "state_changed_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness per organization is checked by the service (the model's constraints
        # would make DRF demand the hidden organization field).
        validators: list[Any] = []

    def get_softphone_configured(self, obj: Agent) -> bool:
        return bool(obj.sip_username and obj.sip_password)


class AgentStateInputSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=AGENT_SELECTABLE_CHOICES)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")


class AgentStateLogSerializer(serializers.ModelSerializer[AgentStateLog]):
    class Meta:
        model = AgentStateLog
        fields = ["id", "agent", "state", "reason", "started_at", "ended_at"]


class AgentFilter(TenantFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=AgentState.choices)
    queue = RelatedIdFilter(field_name="queue_memberships__queue")

    class Meta:
        model = Agent
        fields = ["state", "is_active", "queue", "extension"]


class StateLogFilter(TenantFilterSet):
    started_after = IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = AgentStateLog
        fields = ["agent", "state", "started_after", "started_before"]


class AgentViewSet(TenantViewSetMixin, viewsets.ModelViewSet[Agent]):
    """Everyone reads the roster (to transfer to a colleague); admins manage profiles."""

    queryset = Agent.objects.all()
    serializer_class = AgentSerializer
    read_roles = ALL_ROLES
    write_roles = ADMIN_ONLY
    action_write_roles = {"set_state": ALL_ROLES}
    filterset_class = AgentFilter
    search_fields = ["name", "extension", "interface"]
    ordering_fields = ["name", "extension", "state", "state_changed_at"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = agent_create(
            organization=self.membership.organization, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = agent_update(agent=serializer.instance, **serializer.validated_data)

    def _may_act_for(self, agent: Agent) -> bool:
        own = self.current_agent
        return is_floor_role(self.membership.role) or (own is not None and own.pk == agent.pk)

    @extend_schema(request=AgentStateInputSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"], url_path="state")
    def set_state(self, request: Request, pk: str | None = None) -> Response:
        """Set an agent's state: the agent themself, or a supervisor/admin for anyone."""
        agent = self.get_object()
        if not self._may_act_for(agent):
            raise ApplicationError(
                "You may only change your own state.", status=403, code="permission_denied"
            )
        data = AgentStateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = agent_choose_state(agent=agent, **data.validated_data)
        return Response(AgentSerializer(agent, context=self.get_serializer_context()).data)


class AgentStateLogViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet[AgentStateLog]):
    """Time in state, for reports: the floor sees everyone, an agent only themself."""

    queryset = AgentStateLog.objects.all()
    serializer_class = AgentStateLogSerializer
    read_roles = ALL_ROLES
    filterset_class = StateLogFilter
    ordering_fields = ["started_at"]
    ordering = ["started_at"]

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if is_floor_role(self.membership.role):
            return queryset
        agent = self.current_agent
        return queryset.filter(agent=agent) if agent else queryset.none()
