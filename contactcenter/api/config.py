"""The viewset for plain configuration rows: admins write, through the config services."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.services import config as config_services


class ConfigViewSet(TenantViewSetMixin, viewsets.ModelViewSet[Any]):
    """Create and update through the config services, which check per-org uniqueness."""

    read_roles = ALL_ROLES
    write_roles = ADMIN_ONLY

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = config_services.config_row_create(
            model=self.get_queryset().model,
            organization=self.membership.organization,
            values=serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = config_services.config_row_update(
            instance=serializer.instance, values=serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        config_services.config_row_delete(instance=instance)
