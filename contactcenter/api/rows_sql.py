"""A list page whose rows PostgreSQL writes as JSON, passed through as text.

``ValuesRepresentation`` (rows.py) turns ``values()`` rows into the serializer's
output in Python; on a call-list page most of what remained was decoding the rows'
date-times and JSON from the database and encoding them again (docs/benchmarks.md,
REST). Here each row's JSON is one text column, written by PostgreSQL as DRF's JSON
renderer writes it: the serializer's keys in its order, compact, date-times as DRF's
``DateTimeField`` gives them in UTC (microseconds only when there are some, "Z").
``RowsJSONResponse`` splices the rows into the page the renderer makes of the rest.

Only where the output is the same: on PostgreSQL, in UTC (else the rows go
through ``ValuesRepresentation``), every field is of a kind listed here (else the
representation has no SQL form), and the accepted renderer is DRF's compact JSON one
without indent (else the rows are decoded and rendered as any response is). A JSON
column's value is PostgreSQL's text of it: the same JSON value, with PostgreSQL's
spacing and number spelling inside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Expression, TextField
from django.utils import timezone
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

_DATETIME = (
    "CASE WHEN {c} IS NULL THEN 'null' ELSE '\"' || "
    "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN to_char({c}, 'US') = '000000' THEN '' ELSE '.' || to_char({c}, 'US') END "
    "|| 'Z\"' END"
)
_STRING = "COALESCE(to_json({c})::text, 'null')"  # JSON's escapes, as Python's
_LITERAL = "COALESCE({c}::text, 'null')"  # numbers, booleans, jsonb


def column_sql(model_field: Any, kind: str) -> str | None:
    """The SQL template of one column's JSON value, None when it has none here.
    ``kind``: what the serializer gives of it: "datetime" (DRF's ISO 8601), "text",
    "number", or "stored" (the value as it is stored)."""
    target = model_field.target_field if model_field.is_relation else model_field
    if isinstance(target, models.DateTimeField):
        return _DATETIME if kind == "datetime" else None
    if kind == "datetime":
        return None
    if isinstance(target, models.BooleanField):
        return _LITERAL if kind == "stored" else None
    if isinstance(target, models.IntegerField):
        return _LITERAL if kind in ("number", "stored") else None
    if isinstance(target, models.CharField | models.TextField):
        return _STRING if kind in ("text", "stored") else None
    if isinstance(target, models.JSONField) and target.decoder is None:
        return _LITERAL if kind == "stored" else None
    return None


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def row_template(columns: Sequence[tuple[str, str, str]]) -> str:
    """One row's JSON: ``columns`` are (key, column name, template); ``{t}`` stands for
    the table's alias."""
    parts = []
    for at, (key, column, template) in enumerate(columns):
        parts.append(_quoted(("{" if at == 0 else ",") + json.dumps(key) + ":"))
        parts.append("(" + template.format(c='{t}."' + column + '"') + ")")
    parts.append("'}'")
    return " || ".join(parts)


class RowJSON(Expression):
    """The row's JSON text, from ``row_template``'s SQL."""

    output_field = TextField()

    def __init__(self, template: str) -> None:
        super().__init__()
        self.template = template

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return self.template.replace("{t}", alias), []


def in_utc() -> bool:
    """On PostgreSQL (the SQL here is its own; SQLite, the embedded default, goes
    through Python), in UTC: DRF's date-times are the current time zone's, and UTC is
    the one written here."""
    if connection.vendor != "postgresql":
        return False
    return settings.USE_TZ and str(timezone.get_current_timezone()) in ("UTC", "Etc/UTC")


_ROW = "cc_row_json"


def json_page(view: Any, queryset: Any, expression: RowJSON) -> Response:
    """A list view's response (``queryset`` filtered already; paginated as the view
    pages) with each row's JSON written by PostgreSQL."""
    paginator = view.paginator
    keys: list[str] = []
    if isinstance(paginator, CursorPagination):
        # The page's position is read from the rows (its first ordering field).
        keys = [paginator.get_ordering(view.request, queryset, view)[0].lstrip("-")]
    rows = queryset.values(*keys, **{_ROW: expression})
    page = view.paginate_queryset(rows)
    if page is None:
        return RowsJSONResponse(None, [row[_ROW] for row in rows])
    envelope = view.get_paginated_response([]).data
    return RowsJSONResponse(envelope, [row[_ROW] for row in page])


class RowsJSONResponse(Response):
    """A page whose rows are JSON text already: ``data`` is the page around them (its
    ``results`` empty; None for a bare list), ``rows`` the rows' JSON."""

    def __init__(self, envelope: dict[str, Any] | None, rows: list[str]) -> None:
        super().__init__([] if envelope is None else {**envelope, "results": []})
        self.rows = rows

    @property
    def rendered_content(self) -> Any:
        renderer = self.accepted_renderer
        passes = (
            type(renderer) is JSONRenderer
            and renderer.compact
            and not renderer.ensure_ascii
            and renderer.get_indent(self.accepted_media_type, self.renderer_context) is None  # type: ignore[attr-defined]
        )
        decoded = [json.loads(row) for row in self.rows] if not passes else None
        if decoded is not None:
            if isinstance(self.data, dict):
                self.data["results"] = decoded
            else:
                self.data = decoded
            return super().rendered_content
        around: bytes = super().rendered_content
        empty = b"[]}" if isinstance(self.data, dict) else b"[]"
        if not around.endswith(empty):  # "results" is not the page's last key
            raise ValueError("The page's rows are not its last member.")
        # As DRF's JSON renderer: U+2028 and U+2029 escaped, a strict JavaScript subset.
        joined = ",".join(self.rows).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        return around[: -len(empty)] + b"[" + joined.encode() + empty[1:]
