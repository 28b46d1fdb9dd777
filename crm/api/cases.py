"""/cases/: CRUD, with a case's notes and history as sub-resources.

Agents see and work on their own cases and the unassigned ones; a case they may not
see answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES, FLOOR_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from crm.api.common import HTTP_METHODS, request_user, validated
from crm.api.filters import CaseFilter
from crm.api.serializers import (
    CaseHistoryOutputSerializer,
    CaseInputSerializer,
    CaseNoteInputSerializer,
    CaseNoteOutputSerializer,
    CaseOutputSerializer,
    LegalHoldInputSerializer,
)
from crm.models import Case
from crm.selectors import case_visibility_q
from crm.services import case_create, case_note_add, case_update
from crm.services.legal_hold import case_set_legal_hold
from crm.services.trash import case_trash


@extend_schema_view(
    create=extend_schema(request=CaseInputSerializer, responses={201: CaseOutputSerializer}),
    partial_update=extend_schema(request=CaseInputSerializer, responses=CaseOutputSerializer),
)
class CaseViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Every member reads and writes the cases visible to them; only admins delete (to
    the trash: /trash/cases/)."""

    queryset = Case.objects.all()
    serializer_class = CaseOutputSerializer
    http_method_names = HTTP_METHODS
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    action_write_roles = {"destroy": ADMIN_ONLY, "legal_hold": FLOOR_ROLES}
    filterset_class = CaseFilter
    search_fields = ["title", "description"]
    ordering_fields = ["number", "created_at", "updated_at", "due_at", "status", "priority"]
    ordering = ["-created_at", "-id"]

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(
            case_visibility_q(membership=self.membership, agent=self.current_agent)
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(CaseInputSerializer, request, self.get_serializer_context())
        case = case_create(
            organization=self.membership.organization, actor=request_user(request), **data
        )
        return Response(CaseOutputSerializer(case).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        data = validated(CaseInputSerializer, request, self.get_serializer_context(), partial=True)
        case = case_update(case=case, actor=request_user(request), **data)
        return Response(CaseOutputSerializer(case).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """To the trash (restorable by admins for TRASH_RETENTION_DAYS)."""
        case_trash(case=self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # The sub-resources are short per case and returned whole, oldest first.
    @extend_schema(
        methods=["GET"],
        summary="List a case's notes",
        responses=CaseNoteOutputSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a note to a case",
        request=CaseNoteInputSerializer,
        responses={201: CaseNoteOutputSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if request.method == "POST":
            data = validated(CaseNoteInputSerializer, request, self.get_serializer_context())
            note = case_note_add(case=case, author=request_user(request), body=data["body"])
            return Response(CaseNoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)
        return Response(CaseNoteOutputSerializer(case.notes.all(), many=True).data)

    @extend_schema(
        summary="A case's change history, one row per changed field",
        responses=CaseHistoryOutputSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        return Response(CaseHistoryOutputSerializer(case.history.all(), many=True).data)

    @extend_schema(
        summary="Put a case under legal hold, or lift it (supervisors and admins)",
        request=LegalHoldInputSerializer,
        responses=CaseOutputSerializer,
    )
    @action(detail=True, methods=["post"], url_path="legal-hold", filter_backends=[])
    def legal_hold(self, request: Request, pk: str | None = None) -> Response:
        """While held, the recordings of the case's call are kept past the retention
        days (docs/recordings.md)."""
        case = self.get_object()
        data = validated(LegalHoldInputSerializer, request, self.get_serializer_context())
        case = case_set_legal_hold(case=case, held=data["held"])
        return Response(CaseOutputSerializer(case).data)
