"""Tenant scoping for every REST view.

``TenantViewSetMixin.get_queryset`` starts from ``Model.objects.for_organization`` with
the caller's organization, then narrows it with ``scope_for_role``. Related fields in
input serializers use ``TenantRelatedField`` so a payload can only point at rows of
the caller's own organization: another tenant's id is "does not exist", exactly as an
id that was never used.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from contactcenter.models import Agent, Membership
from contactcenter.selectors.access import agent_for_membership


def membership_from_context(context: dict[str, Any]) -> Membership:
    from contactcenter.api.permissions import request_membership

    request = context["request"]
    membership = request_membership(request)
    if membership is None:  # the permission class has already refused such a caller
        raise serializers.ValidationError("No organization.")
    return membership


@extend_schema_field(OpenApiTypes.INT)
class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary-key field whose choices are the caller's organization's rows only.

    Declared with its model, or built by a ``ModelSerializer`` whose
    ``serializer_related_field`` it is: then the model is the foreign key's (from the
    queryset the serializer passes), which lets contactcenter's API take a relation to
    a package above it (crm) without importing that package.
    """

    def __init__(self, model: type[Model] | None = None, **kwargs: Any) -> None:
        queryset = kwargs.pop("queryset", None)
        if model is None:
            if queryset is None:
                raise TypeError("TenantRelatedField needs a model or a queryset.")
            model = cast(type[Model], queryset.model)
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        membership = membership_from_context(self.context)
        manager: Any = self.model._default_manager
        return cast(QuerySet[Any], manager.for_organization(membership.organization_id))


class TenantViewSetMixin(GenericAPIView[Any]):
    """Scopes a viewset's queryset to the caller's organization (and role)."""

    @property
    def membership(self) -> Membership:
        from contactcenter.api.permissions import request_membership

        membership = request_membership(self.request)
        assert membership is not None  # guaranteed by IsOrganizationMember
        return membership

    @property
    def organization_id(self) -> int:
        return self.membership.organization_id

    @property
    def current_agent(self) -> Agent | None:
        cached = getattr(self, "_cc_agent", False)
        if cached is False:
            cached = agent_for_membership(self.membership)
            self._cc_agent = cached
        return cached  # type: ignore[return-value]

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.queryset.none()  # type: ignore[union-attr]
        assert self.queryset is not None
        base = self.queryset.filter(organization_id=self.organization_id)
        return self.scope_for_role(base)

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow the organization's rows to what this role may see (default: all)."""
        return queryset
