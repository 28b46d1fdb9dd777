"""Calls over REST: read, with disposition and notes writable.

Calls are written by the telephony bridge, never created or deleted here. Agents see
the calls they handled (or were transferred), supervisors and admins the whole floor.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.filtering import IsoDateTimeFilter, TenantFilterSet
from contactcenter.api.pagination import CallCursorPagination
from contactcenter.api.permissions import ALL_ROLES
from contactcenter.api.recordings import RecordingSerializer
from contactcenter.api.rows import ValuesRepresentation, values_page
from contactcenter.api.tenancy import TenantRelatedField, TenantViewSetMixin
from contactcenter.enums import MONITOR_EVENT_TYPES, CallDirection, CallStatus
from contactcenter.models import Call, CallDisposition, CallEvent, CallTransfer, User
from contactcenter.models.recordings import RECORDING_FLAG
from contactcenter.selectors.access import is_floor_role
from contactcenter.selectors.recordings import call_recordings
from contactcenter.services.calls import call_set_disposition, call_update_notes


class CallEventSerializer(serializers.ModelSerializer[CallEvent]):
    class Meta:
        model = CallEvent
        fields = ["id", "type", "occurred_at", "agent", "details"]


class CallTransferSerializer(serializers.ModelSerializer[CallTransfer]):
    class Meta:
        model = CallTransfer
        fields = [
            "id",
            "kind",
            "status",
            "from_agent",
            "to_agent",
            "to_number",
            "requested_at",
            "answered_at",
            "completed_at",
            "details",
        ]


class CallSerializer(serializers.ModelSerializer[Call]):
    class Meta:
        model = Call
        fields = [
            "id",
            "source",
            "external_id",
            "direction",
            "status",
            "caller_number",
            "caller_name",
            "callee_number",
            "queue",
            "agent",
            "contact",
            "started_at",
            "queued_at",
            "answered_at",
            "ended_at",
            "wait_seconds",
            "talk_seconds",
            "hold_seconds",
            "hangup_cause",
            "hangup_cause_text",
            "hangup_by",
            "disposition",
            "disposition_set_at",
            "notes",
            "recording_ref",
            "flags",
            "updated_at",
        ]
        read_only_fields = fields


# The list's rows, read by values(): the same output as CallSerializer at a fraction of
# its CPU (contactcenter/api/rows.py).
CALL_ROWS = ValuesRepresentation(CallSerializer)


class CallDetailSerializer(CallSerializer):
    events = CallEventSerializer(many=True, read_only=True)
    transfers = CallTransferSerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "events", "transfers"]
        read_only_fields = fields


class CallUpdateSerializer(serializers.Serializer[Any]):
    disposition = TenantRelatedField(CallDisposition, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class CallFilter(TenantFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CallStatus.choices)
    direction = django_filters.ChoiceFilter(choices=CallDirection.choices)
    started_after = IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    has_disposition = django_filters.BooleanFilter(
        field_name="disposition", lookup_expr="isnull", exclude=True
    )
    # Calls that have (or had) a recording: the call's flag the recording services keep.
    has_recording = django_filters.BooleanFilter(method="filter_has_recording")

    class Meta:
        model = Call
        fields = [
            "status",
            "direction",
            "source",
            "queue",
            "agent",
            "contact",
            "disposition",
            "caller_number",
            "started_after",
            "started_before",
            "has_disposition",
            "has_recording",
        ]

    def filter_has_recording(
        self, queryset: QuerySet[Call], name: str, value: bool | None
    ) -> QuerySet[Call]:
        if value is None:
            return queryset
        recorded = Q(flags__has_key=RECORDING_FLAG)
        return queryset.filter(recorded) if value else queryset.exclude(recorded)


class CallViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Call],
):
    queryset = Call.objects.all()
    serializer_class = CallSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_class = CallFilter
    search_fields = ["caller_number", "caller_name", "callee_number", "external_id"]
    ordering_fields = ["started_at", "answered_at", "ended_at", "wait_seconds", "talk_seconds"]
    pagination_class: type[CallCursorPagination] | None = CallCursorPagination
    http_method_names = ["get", "patch", "head", "options"]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return values_page(self, CALL_ROWS)

    def get_queryset(self) -> QuerySet[Call]:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(self._timeline(), "transfers")
        return queryset

    def _timeline(self) -> Prefetch:
        """The call's timeline; an agent's without the supervisors' monitoring sessions
        (docs/supervisor.md: the agent is not told they are monitored)."""
        events = CallEvent.objects.all()
        if not is_floor_role(self.membership.role):
            events = events.exclude(type__in=MONITOR_EVENT_TYPES)
        return Prefetch("events", queryset=events)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return CallDetailSerializer if self.action == "retrieve" else CallSerializer

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if is_floor_role(self.membership.role):
            return queryset
        agent = self.current_agent
        if agent is None:
            return queryset.none()
        transferred = CallTransfer.objects.filter(Q(from_agent=agent) | Q(to_agent=agent)).values(
            "call_id"
        )
        return queryset.filter(Q(agent=agent) | Q(pk__in=transferred))

    @extend_schema(responses=RecordingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def recordings(self, request: Request, pk: str | None = None) -> Response:
        """The call's recordings, each stored one with a short-lived playback link
        (contactcenter/api/recordings.py); authorized as the call itself."""
        call = self.get_object()
        rows = call_recordings(call=call)
        return Response(RecordingSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request=CallUpdateSerializer, responses=CallDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        call = self.get_object()
        data = CallUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        # A person, or None for an API key (the audit trail names the key).
        user = request.user if isinstance(request.user, User) else None
        if "disposition" in data.validated_data:
            call = call_set_disposition(
                call=call,
                disposition=data.validated_data["disposition"],
                actor=user,
            )
        if "notes" in data.validated_data:
            call = call_update_notes(call=call, notes=data.validated_data["notes"], actor=user)
        call = self.get_queryset().prefetch_related(self._timeline(), "transfers").get(pk=call.pk)
        return Response(CallDetailSerializer(call).data)
