"""CSV exports: streamed, tenant-scoped, safe to open in a spreadsheet.

An export view is its list view (same scoping, role rules, filters, search and
ordering) that streams every matching row as CSV instead of a page of JSON. Rows are
read in batches of primary keys, so memory holds the keys rather than the rows and no
cursor stays open between chunks; under ASGI the chunks are produced off the event loop.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or
carriage return) are prefixed with ``'`` (OWASP's CSV-injection advice). Times are
ISO 8601 in the organization's time zone, with the offset; the header names the zone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi import AutoSchema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from contactcenter.api.calls import CallViewSet
from contactcenter.api.parsers import check_text
from contactcenter.models import Call
from contactcenter.services import audit

_M = TypeVar("_M", bound=Model)
BATCH = 1000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CSVRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: text/csv``. The view streams the CSV itself; what
    goes through this renderer is an error body, written as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return json.dumps(data).encode()


EXPORT_RENDERERS = [JSONRenderer, CSVRenderer]


class ExportSchema(AutoSchema):
    """The schema of an export: its list's query parameters, a text/csv body."""

    def get_filter_backends(self) -> list[Any]:
        # drf-spectacular lists filters only for JSON list responses.
        return list(getattr(self.view, "filter_backends", []))

    def _get_format_parameters(self) -> list[Any]:
        return []  # the body is CSV whatever ?format= says


CSV_RESPONSE = {(200, "text/csv"): OpenApiTypes.STR}


def safe_cell(value: object) -> str:
    """A cell's text, defused if a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).isoformat()


class _Line:
    """csv.writer target that hands back each formatted line."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(
    header: Sequence[str],
    queryset: QuerySet[_M],
    to_row: Callable[[_M], Sequence[object]],
    batch: int | None = None,
) -> Iterator[bytes]:
    """The header line, then the queryset's rows in its order, ``batch`` rows a chunk.

    The matching keys are read first (one query, in order); each batch of rows is then
    one query by key, so nothing depends on a cursor kept open while the client reads.
    """
    batch = batch or BATCH
    writer = csv.writer(_Line())
    yield writer.writerow([safe_cell(h) for h in header]).encode()
    keys = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        found = {obj.pk: obj for obj in queryset.filter(pk__in=chunk).order_by()}
        lines = [
            writer.writerow([safe_cell(v) for v in to_row(found[pk])])
            for pk in chunk
            if pk in found  # deleted since the keys were read
        ]
        yield "".join(lines).encode()


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


async def _off_the_loop(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    while True:
        chunk = await sync_to_async(_next_chunk)(chunks)
        if chunk is None:
            return
        yield chunk


def csv_response(
    request: Request,
    chunks: Iterator[bytes],
    filename: str,
    *,
    organization_id: int,
    object_type: str,
) -> Any:
    """A streamed CSV download; async under ASGI so Django does not buffer it whole.
    The export is an audit entry (``export``, with the query that chose the rows): a
    query with text no column holds (a NUL) is refused first, not a server error."""
    check_text(request.query_params)
    audit.export_recorded(
        organization_id=organization_id,
        object_type=object_type,
        query={key: request.query_params.getlist(key) for key in request.query_params},
    )
    content: Iterable[bytes] | AsyncIterator[bytes] = chunks
    if isinstance(request._request, ASGIRequest):
        content = _off_the_loop(chunks)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _call_header(time_zone: str) -> list[str]:
    times = [f"{name} ({time_zone})" for name in ("started_at", "queued_at", "answered_at")]
    return [
        "id",
        "source",
        "external_id",
        "direction",
        "status",
        "caller_number",
        "caller_name",
        "callee_number",
        "queue",
        "agent_extension",
        "agent_name",
        *times,
        f"ended_at ({time_zone})",
        "wait_seconds",
        "talk_seconds",
        "hold_seconds",
        "hangup_by",
        "hangup_cause_text",
        "disposition",
        "notes",
    ]


def _call_row(call: Call, zone: ZoneInfo) -> list[object]:
    return [
        call.pk,
        call.source,
        call.external_id,
        call.direction,
        call.status,
        call.caller_number,
        call.caller_name,
        call.callee_number,
        call.queue.name if call.queue else "",
        call.agent.extension if call.agent else "",
        call.agent.name if call.agent else "",
        local_time(call.started_at, zone),
        local_time(call.queued_at, zone),
        local_time(call.answered_at, zone),
        local_time(call.ended_at, zone),
        call.wait_seconds,
        call.talk_seconds,
        call.hold_seconds,
        call.hangup_by,
        call.hangup_cause_text,
        call.disposition.code if call.disposition else "",
        call.notes,
    ]


class CallExportViewSet(CallViewSet):
    """``GET /calls/export.csv``: the calls list (same visibility and filters) as CSV."""

    throttle_kind = "export"  # its own rate limit (contactcenter/api/throttling.py)
    pagination_class = None
    renderer_classes = EXPORT_RENDERERS
    schema = ExportSchema()

    @extend_schema(
        operation_id="calls_export_csv",
        summary="Export the calls list as CSV (same filters, search and ordering)",
        responses=CSV_RESPONSE,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        calls = self.filter_queryset(self.get_queryset()).select_related(
            "queue", "agent", "disposition"
        )
        time_zone = self.membership.organization.time_zone
        zone = ZoneInfo(time_zone)
        chunks = csv_chunks(_call_header(time_zone), calls, lambda c: _call_row(c, zone))
        return csv_response(
            request,
            chunks,
            "calls.csv",
            organization_id=self.organization_id,
            object_type="contactcenter.call",
        )
