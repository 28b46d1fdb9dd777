"""/trash/contacts/ and /trash/cases/: what was deleted, for admins to restore or to
delete for good before the purge job does (crm/services/trash.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ADMIN_ONLY
from contactcenter.api.tenancy import TenantViewSetMixin
from crm.api.serializers import CaseOutputSerializer, ContactOutputSerializer
from crm.models import Case, Contact, Trashable
from crm.services.trash import case_restore, contact_restore, purge_at, trashed_delete


class _TrashFields(serializers.Serializer[Trashable]):
    deleted_at = serializers.DateTimeField(read_only=True)
    deleted_by = serializers.IntegerField(
        source="deleted_by_id", read_only=True, allow_null=True, help_text="The user's id."
    )
    purge_at = serializers.SerializerMethodField(
        help_text="When the purge job deletes it for good (TRASH_RETENTION_DAYS)."
    )

    def get_purge_at(self, obj: Trashable) -> dt.datetime | None:
        return purge_at(obj)


class TrashedContactSerializer(_TrashFields, ContactOutputSerializer):
    class Meta(ContactOutputSerializer.Meta):
        fields = [*ContactOutputSerializer.Meta.fields, "deleted_at", "deleted_by", "purge_at"]
        read_only_fields = fields


class TrashedCaseSerializer(_TrashFields, CaseOutputSerializer):
    class Meta(CaseOutputSerializer.Meta):
        fields = [*CaseOutputSerializer.Meta.fields, "deleted_at", "deleted_by", "purge_at"]
        read_only_fields = fields


class _TrashViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Admins only: list, read, restore (POST .../restore/), delete for good (DELETE)."""

    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering = ["-deleted_at", "-id"]
    ordering_fields = ["deleted_at"]
    filterset_fields: list[str] = []

    def perform_destroy(self, instance: Any) -> None:
        trashed_delete(row=instance)

    def _restored(self, restored: Any, serializer: type[serializers.Serializer[Any]]) -> Response:
        return Response(serializer(restored).data, status=status.HTTP_200_OK)


@extend_schema(tags=["trash"])
class TrashedContactViewSet(_TrashViewSet):
    queryset = Contact.all_objects.filter(deleted_at__isnull=False).prefetch_related("phones")
    serializer_class = TrashedContactSerializer
    search_fields = ["first_name", "last_name", "company", "email"]

    @extend_schema(
        summary="Take a contact out of the trash", request=None, responses=ContactOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        contact = contact_restore(contact=self.get_object())
        fresh = Contact.objects.prefetch_related("phones").get(pk=contact.pk)
        return self._restored(fresh, ContactOutputSerializer)


@extend_schema(tags=["trash"])
class TrashedCaseViewSet(_TrashViewSet):
    queryset = Case.all_objects.filter(deleted_at__isnull=False)
    serializer_class = TrashedCaseSerializer
    search_fields = ["title", "description"]

    @extend_schema(
        summary="Take a case out of the trash", request=None, responses=CaseOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        return self._restored(case_restore(case=self.get_object()), CaseOutputSerializer)
