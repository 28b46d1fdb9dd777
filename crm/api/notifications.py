"""/notifications/: each member sees, reads and dismisses only their own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ALL_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from crm.api.filters import NotificationFilter
from crm.api.serializers import MarkAllReadOutputSerializer, NotificationOutputSerializer
from crm.models import Notification
from crm.selectors import notification_owner_q
from crm.services import notification_delete, notification_mark_all_read, notification_mark_read


class NotificationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Notifications are created by the system; there is no POST of one."""

    queryset = Notification.objects.all()
    serializer_class = NotificationOutputSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_class = NotificationFilter
    search_fields: list[str] = []
    ordering_fields = ["created_at", "read_at"]
    ordering = ["-created_at", "-id"]

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Whatever the role: another member's notification is a 404.
        return queryset.filter(notification_owner_q(user_id=self.membership.user_id))

    def perform_destroy(self, instance: Notification) -> None:
        notification_delete(notification=instance)

    @extend_schema(summary="Mark one notification read", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = notification_mark_read(notification=self.get_object())
        return Response(NotificationOutputSerializer(notification).data)

    @extend_schema(
        summary="Mark all my notifications read",
        request=None,
        responses=MarkAllReadOutputSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="read-all",
        filter_backends=[],
        pagination_class=None,
    )
    def read_all(self, request: Request) -> Response:
        updated = notification_mark_all_read(
            user_id=self.membership.user_id, organization_id=self.organization_id
        )
        return Response(
            MarkAllReadOutputSerializer({"updated": updated}).data, status=status.HTTP_200_OK
        )
