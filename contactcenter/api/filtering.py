"""Query-string filters shared by the lists (django-filter).

A filter on a related row takes its id as a plain number and filters by it: the
caller's list is already scoped to their organization, so another organization's id
and an id never used both give an empty list. django-filter's default for a relation
(a choice among *all* rows of the related model) answered 400 ``invalid_choice`` for an
unused id and 200 for another tenant's: an oracle for which ids exist elsewhere.
``TenantFilterSet`` (for the filter classes written out) and ``FilterBackend`` (for
``filterset_fields``, and refusing a filter class not built on it) make it so for every
list; tests/contactcenter/api/test_filter_oracles.py checks every such filter in the schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.fields.related import ManyToManyRel, ManyToOneRel, OneToOneRel
from django_filters import rest_framework as drf_filters
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget


class RelatedIdFilter(django_filters.NumberFilter):
    """A related row's id: a whole number (Django answers "no rows" for one beyond the
    column's range), never checked against the related table."""

    field_class = forms.IntegerField


_RELATED_ID: dict[Any, dict[str, Any]] = {
    relation: {"filter_class": RelatedIdFilter}
    for relation in (
        models.ForeignKey,
        models.OneToOneField,
        models.ManyToManyField,
        OneToOneRel,
        ManyToOneRel,
        ManyToManyRel,
    )
}


class TenantFilterSet(django_filters.FilterSet):
    """The base of every filter class: relations in ``Meta.fields`` filter by id."""

    FILTER_DEFAULTS = {**django_filters.FilterSet.FILTER_DEFAULTS, **_RELATED_ID}


class _TenantAutoFilterSet(drf_filters.FilterSet):
    FILTER_DEFAULTS = {**drf_filters.FilterSet.FILTER_DEFAULTS, **_RELATED_ID}


class FilterBackend(drf_filters.DjangoFilterBackend):
    """django-filter's backend, with relations filtering by id (see the module)."""

    filterset_base = _TenantAutoFilterSet

    def get_filterset_class(self, view: Any, queryset: Any = None) -> Any:
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(
            filterset_class, TenantFilterSet | _TenantAutoFilterSet
        ):
            raise ImproperlyConfigured(
                f"{filterset_class.__name__} must derive from "
                "contactcenter.api.filtering.TenantFilterSet."
            )
        return filterset_class

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        # A request naming none of the filters leaves the list as it is, so the filter set
        # (its form, a deep copy of every filter) is not built for it: a sixth of the call
        # list's CPU (docs/benchmarks.md, REST). Every filter's parameters start with its
        # name (a range's _after / _before too); one required filter always builds it.
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not _names_a_filter(
            filterset_class.base_filters, request.query_params
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _names_a_filter(filters: dict[str, Any], params: Any) -> bool:
    if any(f.extra.get("required") for f in filters.values()):
        return True
    return any(key.startswith(name) for key in params for name in filters)


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
