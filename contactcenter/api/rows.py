"""A read-only ModelSerializer's output built from ``QuerySet.values()`` rows.

DRF serializes a list row by row and field by field: a model instance per row, then
for each of its fields a lookup of the attribute, a None check and the field's
``to_representation``. For a page of 50 calls with 27 fields that is most of the
request's CPU (docs/benchmarks.md, REST). ``ValuesRepresentation`` reads the
serializer's own fields once, and turns each into a column of ``values()`` and a
converter that gives what the field would have given; the serializer stays the API's
contract (the OpenAPI schema is still generated from it), and a field of a kind not
listed here is refused when the representation is built, never served differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from contactcenter.api.rows_sql import RowJSON, column_sql, in_utc, json_page, row_template

Converter = Callable[[Any, tzinfo | None], Any]


def _same(value: Any, tz: tzinfo | None) -> Any:
    return value


def _text(value: Any, tz: tzinfo | None) -> Any:
    return value if type(value) is str else str(value)


def _integer(value: Any, tz: tzinfo | None) -> Any:
    return value if type(value) is int else int(value)


def _datetime(value: Any, tz: tzinfo | None) -> Any:
    # DRF's DateTimeField in ISO 8601: to the current time zone, "+00:00" written "Z".
    if not value:  # as DRF's: a falsy value is null
        return None
    if tz is not None and timezone.is_aware(value):
        value = value.astimezone(tz)
    text: str = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _converter(model: type[Model], field: Any) -> tuple[str, Converter]:
    """The ``values()`` column and the converter standing in for ``field``."""
    source = field.source
    if not isinstance(source, str) or field.source_attrs != [source]:
        raise TypeError(f"{field.field_name}: only a model's own columns are supported")
    if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
        # The foreign key's column: the related row's primary key.
        column: str = getattr(model._meta.get_field(source), "attname", source)
        return column, _same
    if isinstance(field, fields.DateTimeField):
        if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601:
            raise TypeError(f"{field.field_name}: only ISO 8601 date-times are supported")
        if getattr(field, "timezone", None) is not None:
            raise TypeError(f"{field.field_name}: a field's own time zone is not supported")
        return source, _datetime
    if isinstance(field, fields.MultipleChoiceField | fields.FilePathField):
        raise TypeError(f"{field.field_name}: {type(field).__name__} is not supported")
    if isinstance(field, fields.ChoiceField | fields.BooleanField):
        # ChoiceField gives a stored value back as it is; BooleanField its bool.
        return source, _same
    if isinstance(field, fields.JSONField) and not field.binary:
        return source, _same
    if isinstance(field, fields.IntegerField):
        return source, _integer
    if isinstance(field, fields.CharField):
        return source, _text
    raise TypeError(f"{field.field_name}: {type(field).__name__} is not supported")


_KINDS: dict[Converter, str] = {
    _datetime: "datetime",
    _text: "text",
    _integer: "number",
    _same: "stored",
}


class ValuesRepresentation:
    """What ``serializer_class(rows, many=True).data`` gives, from ``values()`` rows.

    ``columns`` are the names to pass to ``QuerySet.values``; ``represent`` takes the
    rows (dicts) and returns the list of dicts, keys in the serializer's order.
    """

    def __init__(self, serializer_class: type[serializers.ModelSerializer[Any]]) -> None:
        self.serializer_class = serializer_class
        self._plan: list[tuple[str, str, Converter]] | None = None
        self._sql: RowJSON | bool | None = None  # False: none

    def _built(self) -> list[tuple[str, str, Converter]]:
        # Built on first use: the serializer's fields need the apps loaded.
        if self._plan is None:
            serializer = self.serializer_class()
            model = self.serializer_class.Meta.model
            plan: list[tuple[str, str, Converter]] = []
            for field in serializer.fields.values():
                if field.write_only:
                    continue
                column, convert = _converter(model, field)
                plan.append((str(field.field_name), column, convert))
            self._plan = plan
        return self._plan

    @property
    def columns(self) -> list[str]:
        return [column for _, column, _ in self._built()]

    def sql_json(self) -> RowJSON | None:
        """Each row's JSON written by PostgreSQL (rows_sql.py), None where that would
        not be the same output: not in UTC, or a field of a kind it does not write."""
        if not in_utc():
            return None
        if self._sql is None:
            model = self.serializer_class.Meta.model
            columns = []
            for name, column, convert in self._built():
                model_field = model._meta.get_field(column)  # type: ignore[attr-defined]
                template = column_sql(model_field, _KINDS.get(convert, ""))
                if template is None:
                    self._sql = False
                    break
                columns.append((name, model_field.column, template))
            else:
                self._sql = RowJSON(row_template(columns))
        return self._sql if isinstance(self._sql, RowJSON) else None

    def represent(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        plan = self._built()
        tz = timezone.get_current_timezone() if settings.USE_TZ else None  # as DRF's
        return [
            {
                name: None if (value := row[column]) is None else convert(value, tz)
                for name, column, convert in plan
            }
            for row in rows
        ]


def values_page(view: Any, representation: ValuesRepresentation, extra: Sequence[str] = ()) -> Any:
    """A list view's response (filtered, paginated) with its rows read by ``values()``,
    or written as JSON by PostgreSQL where that gives the same (rows_sql.py)."""
    queryset = view.filter_queryset(view.get_queryset())
    expression = representation.sql_json() if not extra else None
    if expression is not None:
        return json_page(view, queryset, expression)
    queryset = queryset.values(*representation.columns, *extra)
    page = view.paginate_queryset(queryset)
    if page is None:
        return Response(representation.represent(queryset))
    return view.get_paginated_response(representation.represent(page))
