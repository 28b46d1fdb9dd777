"""Query-string filters of the crm lists (django-filter)."""

from __future__ import annotations

import json

import django_filters
from django.db import connection
from django.db.models import QuerySet

from contactcenter.api.filtering import (
    IsoDateTimeFromToRangeFilter,
    RelatedIdFilter,
    TenantFilterSet,
)
from crm.enums import CasePriority, CaseStatus, NotificationKind
from crm.models import Case, CaseCategory, Contact, Notification


class ContactFilter(TenantFilterSet):
    tag = django_filters.CharFilter(method="filter_tag", help_text="Contacts with this tag.")
    company = django_filters.CharFilter(lookup_expr="icontains")
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["tag", "company", "email"]

    def filter_tag(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        if connection.vendor == "postgresql":
            return queryset.filter(tags__contains=[value])  # jsonb @>, uses a GIN index if added
        # SQLite (the embedded default) has no JSON containment: match the element's JSON
        # text, quotes included, so "vip" does not match "vip-gold".
        return queryset.filter(tags__icontains=json.dumps(value))


class CaseFilter(TenantFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=CasePriority.choices)
    # Plain ids, not ModelChoiceFilters: those would answer "not a valid choice" for an
    # id that exists in another organization but not for one that exists nowhere.
    category = RelatedIdFilter(field_name="category_id")
    assigned_agent = RelatedIdFilter(field_name="assigned_agent_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_agent", lookup_expr="isnull")
    contact = RelatedIdFilter(field_name="contact_id")
    source_call = RelatedIdFilter(field_name="source_call_id")
    due_at = IsoDateTimeFromToRangeFilter(
        help_text="due_at_after / due_at_before (ISO 8601), both inclusive."
    )

    class Meta:
        model = Case
        fields = [
            "status",
            "priority",
            "category",
            "assigned_agent",
            "unassigned",
            "contact",
            "source_call",
            "due_at",
        ]


class CaseCategoryFilter(TenantFilterSet):
    parent = RelatedIdFilter(field_name="parent_id")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = CaseCategory
        fields = ["parent", "root"]


class NotificationFilter(TenantFilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields = ["unread", "kind"]
