"""Row-level tenancy: every tenant-owned row has an organization.

Reads go through ``Model.objects.for_organization(org)`` (or a selector that calls
it); there is no unscoped path in the API layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

if TYPE_CHECKING:
    from contactcenter.models.tenancy import Organization

_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    def for_organization(self, organization: Organization | int) -> TenantQuerySet[_M]:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


def tenant_organization(*, indexed: bool = True) -> Any:
    """A tenant model's organization. ``indexed=False`` for a table whose other indexes
    all begin with it (a hot table is spared the writes of one more index)."""
    return models.ForeignKey(
        "contactcenter.Organization", on_delete=models.CASCADE, related_name="+", db_index=indexed
    )


class TenantModel(models.Model):
    organization = tenant_organization()

    objects: Any = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
