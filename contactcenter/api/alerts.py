"""Queue alerts raised and cleared, for reports: the floor reads them, nobody writes them
(services.queue_alerts does; docs/supervisor.md#alerts)."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers, viewsets

from contactcenter.alerts import describe
from contactcenter.api.filtering import IsoDateTimeFilter, TenantFilterSet
from contactcenter.api.permissions import FLOOR_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.models import QueueAlert


class QueueAlertSerializer(serializers.ModelSerializer[QueueAlert]):
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    text = serializers.SerializerMethodField(help_text="What the wallboard said.")

    class Meta:
        model = QueueAlert
        fields = [
            "id",
            "queue",
            "queue_name",
            "kind",
            "text",
            "threshold",
            "value",
            "raised_at",
            "cleared_at",
            "cleared_value",
        ]
        read_only_fields = fields

    def get_text(self, alert: QueueAlert) -> str:
        return describe(alert.kind, alert.value, alert.threshold)


class QueueAlertFilter(TenantFilterSet):
    raised_after = IsoDateTimeFilter(field_name="raised_at", lookup_expr="gte")
    raised_before = IsoDateTimeFilter(field_name="raised_at", lookup_expr="lt")
    open = django_filters.BooleanFilter(
        field_name="cleared_at", lookup_expr="isnull", label="Still raised"
    )

    class Meta:
        model = QueueAlert
        fields = ["queue", "kind", "raised_after", "raised_before", "open"]


class QueueAlertViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet[QueueAlert]):
    queryset = QueueAlert.objects.select_related("queue")
    serializer_class = QueueAlertSerializer
    read_roles = FLOOR_ROLES
    filterset_class = QueueAlertFilter
    ordering_fields = ["raised_at"]
    ordering = ["-raised_at", "-id"]

    def scope_for_role(self, queryset: Any) -> Any:
        return queryset
