"""Queues and their members; dispositions. Configuration: admins write, everyone reads.

Queue membership is the floor's business, so supervisors manage it too.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from contactcenter.api.config import ConfigViewSet
from contactcenter.api.permissions import FLOOR_ROLES
from contactcenter.api.tenancy import TenantRelatedField
from contactcenter.enums import QueueMaxWaitAction
from contactcenter.models import Agent, CallDisposition, CallQueue, QueueMembership


class CallQueueSerializer(serializers.ModelSerializer[CallQueue]):
    max_wait_queue = TenantRelatedField(CallQueue, required=False, allow_null=True)

    class Meta:
        model = CallQueue
        fields = [
            "id",
            "name",
            "pbx_queue_name",
            "service_level_seconds",
            "short_abandon_seconds",
            "strategy",
            "max_wait_seconds",
            "max_wait_action",
            "max_wait_queue",
            "max_wait_message",
            "leave_empty",
            "ring_timeout_seconds",
            "retry_seconds",
            "wrapup_seconds",
            "pause_after_misses",
            "join_empty",
            "weight",
            "recording_policy",
            "alert_longest_wait_seconds",
            "alert_service_level_percent",
            "alert_service_level_min_calls",
            "alert_callers_waiting",
            "alert_agents_available",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []  # per-organization uniqueness: see config services

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``max_wait_action`` "queue" names another queue to go to, and only then."""
        current = self.instance
        action = attrs.get("max_wait_action", current.max_wait_action if current else "")
        target = attrs.get("max_wait_queue", current.max_wait_queue if current else None)
        if action == QueueMaxWaitAction.QUEUE:
            if target is None:
                raise serializers.ValidationError(
                    {"max_wait_queue": "Name the queue callers go to after the maximum wait."}
                )
            if current is not None and target.pk == current.pk:
                raise serializers.ValidationError(
                    {"max_wait_queue": "A queue cannot send its callers to itself."}
                )
        return attrs


class QueueMembershipSerializer(serializers.ModelSerializer[QueueMembership]):
    queue = TenantRelatedField(CallQueue)
    agent = TenantRelatedField(Agent)

    class Meta:
        model = QueueMembership
        fields = [
            "id",
            "queue",
            "agent",
            "penalty",
            "is_logged_in",
            "paused",
            "paused_reason",
            "paused_at",
            "calls_taken",
            "last_call_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "is_logged_in",
            "paused",
            "paused_reason",
            "paused_at",
            "calls_taken",
            "last_call_at",
            "updated_at",
        ]
        validators: list[Any] = []


class CallDispositionSerializer(serializers.ModelSerializer[CallDisposition]):
    # default_case_category, the CRM's CaseCategory, is built from the model's foreign key
    # (not required, null allowed) and limited to the caller's organization.
    serializer_related_field = TenantRelatedField

    class Meta:
        model = CallDisposition
        fields = [
            "id",
            "name",
            "code",
            "category",
            "requires_follow_up",
            "requires_case_creation",
            "default_case_category",
            "default_case_priority",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []


class CallQueueViewSet(ConfigViewSet):
    queryset = CallQueue.objects.all()
    serializer_class = CallQueueSerializer
    filterset_fields = ["is_active", "strategy"]
    search_fields = ["name", "pbx_queue_name"]
    ordering_fields = ["name", "pbx_queue_name", "created_at"]


class QueueMembershipViewSet(ConfigViewSet):
    queryset = QueueMembership.objects.select_related("queue", "agent")
    serializer_class = QueueMembershipSerializer
    write_roles = FLOOR_ROLES
    filterset_fields = ["queue", "agent", "paused", "is_logged_in"]
    ordering_fields = ["queue", "agent", "penalty"]


class CallDispositionViewSet(ConfigViewSet):
    queryset = CallDisposition.objects.select_related("default_case_category")
    serializer_class = CallDispositionSerializer
    filterset_fields = ["is_active", "requires_case_creation", "requires_follow_up", "category"]
    search_fields = ["name", "code", "category"]
    ordering_fields = ["name", "code", "created_at"]
