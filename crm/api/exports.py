"""``GET /cases/export.csv``: the cases list (same visibility and filters) as CSV.

Streaming, CSV-injection defusing and time zones as for the calls export
(contactcenter/api/exports.py).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from contactcenter.api.exports import (
    CSV_RESPONSE,
    EXPORT_RENDERERS,
    ExportSchema,
    csv_chunks,
    csv_response,
    local_time,
)
from crm.api.cases import CaseViewSet
from crm.models import Case


def _header(time_zone: str) -> list[str]:
    times = ["created_at", "updated_at", "due_at", "resolved_at", "closed_at"]
    return [
        "id",
        "reference",
        "title",
        "status",
        "priority",
        "category",
        "assigned_agent_extension",
        "assigned_agent_name",
        "contact_id",
        "contact_name",
        "source_call_id",
        *(f"{name} ({time_zone})" for name in times),
        "description",
    ]


def _row(case: Case, zone: ZoneInfo) -> list[object]:
    agent = case.assigned_agent
    return [
        case.pk,
        case.reference,
        case.title,
        case.status,
        case.priority,
        case.category.name if case.category else "",
        agent.extension if agent else "",
        agent.name if agent else "",
        case.contact_id,
        case.contact.display_name if case.contact else "",
        case.source_call_id,
        local_time(case.created_at, zone),
        local_time(case.updated_at, zone),
        local_time(case.due_at, zone),
        local_time(case.resolved_at, zone),
        local_time(case.closed_at, zone),
        case.description,
    ]


class CaseExportViewSet(CaseViewSet):
    throttle_kind = "export"  # its own rate limit (contactcenter/api/throttling.py)
    pagination_class = None
    renderer_classes = EXPORT_RENDERERS
    schema = ExportSchema()

    @extend_schema(
        operation_id="cases_export_csv",
        summary="Export the cases list as CSV (same filters, search and ordering)",
        responses=CSV_RESPONSE,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        cases = self.filter_queryset(self.get_queryset()).select_related(
            "category", "assigned_agent", "contact"
        )
        time_zone = self.membership.organization.time_zone
        zone = ZoneInfo(time_zone)
        chunks = csv_chunks(_header(time_zone), cases, lambda c: _row(c, zone))
        return csv_response(
            request,
            chunks,
            "cases.csv",
            organization_id=self.organization_id,
            object_type="crm.case",
        )
