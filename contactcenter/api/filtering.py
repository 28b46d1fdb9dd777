"""Query-string filter fields shared by the lists (django-filter)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, turned into UTC before it reaches the database: PostgreSQL refuses
    offsets beyond ±15:59 that ISO 8601 allows, and a date near year 1 or 9999 may not
    exist in UTC at all. Either is a field error, never a server error."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Date and time out of range.", code="invalid") from None


class UtcIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget  # the _after / _before parameters

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__((UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = UtcIsoDateTimeRangeField
