"""Callbacks over REST: the organization's scheduled and kept callbacks; schedule one
("call me at 15:00"); cancel one still waiting. Every role may (an agent schedules the
callbacks a customer asks of them); writes go through contactcenter.services.callbacks.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ALL_ROLES
from contactcenter.api.tenancy import TenantRelatedField, TenantViewSetMixin
from contactcenter.models import Callback, CallQueue
from contactcenter.services.callbacks import callback_cancel, callback_schedule


class CallbackSerializer(serializers.ModelSerializer[Callback]):
    class Meta:
        model = Callback
        fields = [
            "id",
            "queue",
            "number",
            "call",
            "place_at",
            "next_attempt_at",
            "status",
            "attempts",
            "max_attempts",
            "retry_seconds",
            "last_outcome",
            "agent",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CallbackScheduleSerializer(serializers.Serializer[Any]):
    queue = TenantRelatedField(CallQueue)
    number = serializers.CharField(max_length=32)
    at = serializers.DateTimeField(required=False, help_text="Not before this time; default now.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    max_attempts = serializers.IntegerField(min_value=1, max_value=10, default=3)
    retry_seconds = serializers.IntegerField(min_value=30, max_value=86400, default=300)


class CallbackViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Callback],
):
    queryset = Callback.objects.all()
    serializer_class = CallbackSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_fields = ["queue", "status"]
    ordering_fields = ["place_at", "next_attempt_at", "created_at"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("place_at", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Schedule a callback."""
        data = CallbackScheduleSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        callback = callback_schedule(**data.validated_data)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a callback still waiting (409 once it is dialled, answered or given up)."""
        callback = callback_cancel(callback=self.get_object())
        return Response(CallbackSerializer(callback).data)
