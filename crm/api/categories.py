"""/case-categories/: every member reads them; admins shape the tree."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from crm.api.common import HTTP_METHODS, validated
from crm.api.filters import CaseCategoryFilter
from crm.api.serializers import CaseCategoryInputSerializer, CaseCategoryOutputSerializer
from crm.models import CaseCategory
from crm.services import case_category_create, case_category_delete, case_category_update


@extend_schema_view(
    create=extend_schema(
        request=CaseCategoryInputSerializer, responses={201: CaseCategoryOutputSerializer}
    ),
    partial_update=extend_schema(
        request=CaseCategoryInputSerializer, responses=CaseCategoryOutputSerializer
    ),
    destroy=extend_schema(description="409 while the category has subcategories."),
)
class CaseCategoryViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    queryset = CaseCategory.objects.all()
    serializer_class = CaseCategoryOutputSerializer
    http_method_names = HTTP_METHODS
    read_roles = ALL_ROLES
    write_roles = ADMIN_ONLY
    filterset_class = CaseCategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(CaseCategoryInputSerializer, request, self.get_serializer_context())
        category = case_category_create(organization=self.membership.organization, **data)
        return Response(CaseCategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        category = self.get_object()
        data = validated(
            CaseCategoryInputSerializer, request, self.get_serializer_context(), partial=True
        )
        category = case_category_update(category=category, **data)
        return Response(CaseCategoryOutputSerializer(category).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case_category_delete(category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
