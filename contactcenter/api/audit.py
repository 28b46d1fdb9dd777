"""The audit trail over REST: organization admins read it; nobody writes it here.

GET /api/v1/audit-log/ lists entries newest first, a cursor page at a time (the table
only grows: no count), filtered by actor, object, action and time range.
"""

from __future__ import annotations

import django_filters
from rest_framework import mixins, serializers, viewsets
from rest_framework.pagination import CursorPagination

from contactcenter.api.filtering import IsoDateTimeFilter, TenantFilterSet
from contactcenter.api.permissions import ADMIN_ONLY
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.models import ActorKind, AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_kind",
            "actor_user_id",
            "actor_api_key_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "changes",
            "details",
            "request_id",
            "client_address",
        ]
        read_only_fields = fields


class AuditCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-at", "-id")


class AuditEntryFilter(TenantFilterSet):
    actor_kind = django_filters.ChoiceFilter(choices=ActorKind.choices)
    actor_user = django_filters.NumberFilter(field_name="actor_user_id")
    actor_api_key = django_filters.NumberFilter(field_name="actor_api_key_id")
    action = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    request_id = django_filters.CharFilter()
    since = IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = [
            "actor_kind",
            "actor_user",
            "actor_api_key",
            "action",
            "object_type",
            "object_id",
            "request_id",
            "since",
            "until",
        ]


class AuditEntryViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[AuditEntry],
):
    """Admins only; read only (there is no way to change or delete an entry)."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    read_roles = ADMIN_ONLY
    write_roles: frozenset[str] = frozenset()
    filterset_class = AuditEntryFilter
    ordering_fields: list[str] = []
    pagination_class = AuditCursorPagination
    http_method_names = ["get", "head", "options"]
