"""Django admin for the crm models.

The admin is an interface like the API: phones are normalised, and cases are created
and changed through case_create / case_update (so they get their number from the
organization's counter, and edits are in the history). Calls and users are picked by
raw id (big tables); other related rows autocomplete.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from contactcenter.admin_audit import AuditedAdmin
from contactcenter.models import User
from contactcenter.phones import phone_try_normalize
from crm.models import (
    Case,
    CaseCategory,
    CaseCounter,
    CaseHistory,
    CaseNote,
    CaseSlaPolicy,
    Contact,
    ContactPhone,
    FollowUp,
    Notification,
    NotificationPreference,
    OutboundEmail,
)
from crm.services import case_create, case_update
from crm.services.cases import CASE_TRACKED_FIELDS
from crm.services.trash import case_trash, contact_trash


def _same_organization_errors(form: forms.ModelForm, fields: list[str]) -> None:
    """Refuse links to another tenant's rows (raw-id inputs accept any id)."""
    organization = form.cleaned_data.get("organization") or getattr(
        form.instance, "organization", None
    )
    if organization is None:
        return
    for field in fields:
        value = form.cleaned_data.get(field)
        if value is not None and value.organization_id != organization.pk:
            form.add_error(field, "This belongs to another organization.")


class ContactPhoneFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        contact: Contact = self.instance
        region = contact.organization.default_region if contact.organization_id else "US"
        seen: set[str] = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            number = phone_try_normalize(form.cleaned_data.get("number"), region=region)
            if number is None:
                form.add_error("number", "Not a phone number.")
                continue
            if number in seen:
                form.add_error("number", "This contact already has this number.")
                continue
            seen.add(number)
            form.instance.number = number
            form.instance.organization_id = contact.organization_id


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    formset = ContactPhoneFormSet
    fields = ["number", "label"]
    extra = 1


class TrashOnDeleteAdmin(AuditedAdmin):
    """Deleting here moves to the trash, as the API does (crm/services/trash.py)."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if isinstance(obj, Case):
            case_trash(case=obj, actor=actor)
        else:
            contact_trash(contact=obj, actor=actor)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Contact)
class ContactAdmin(TrashOnDeleteAdmin):
    list_display = ["id", "display_name", "company", "email", "organization", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["first_name", "last_name", "company", "email", "phones__number"]
    autocomplete_fields = ["organization"]
    inlines = [ContactPhoneInline]


@admin.register(ContactPhone)
class ContactPhoneAdmin(AuditedAdmin):
    list_display = ["number", "label", "contact", "organization"]
    list_filter = ["organization", "label"]
    search_fields = ["number"]
    # Read-only here: a phone is edited on its contact, where it is normalised.
    readonly_fields = ["organization", "contact", "number", "label"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CaseCategoryAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        _same_organization_errors(self, ["parent"])
        return cleaned


@admin.register(CaseCategory)
class CaseCategoryAdmin(AuditedAdmin):
    form = CaseCategoryAdminForm
    list_display = ["name", "parent", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]
    autocomplete_fields = ["organization", "parent"]


@admin.register(CaseCounter)
class CaseCounterAdmin(AuditedAdmin):
    list_display = ["organization", "last_number"]
    list_filter = ["organization"]
    # Editing the counter by hand would hand out a number twice.
    readonly_fields = ["organization", "last_number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CaseNoteInline(admin.TabularInline):
    model = CaseNote
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    extra = 0


class CaseHistoryInline(admin.TabularInline):
    model = CaseHistory
    fields = ["changed_at", "field", "old_value", "new_value", "changed_by"]
    readonly_fields = ["changed_at", "field", "old_value", "new_value", "changed_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class CaseAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        _same_organization_errors(self, ["category", "assigned_agent", "contact", "source_call"])
        return cleaned


@admin.register(Case)
class CaseAdmin(TrashOnDeleteAdmin):
    form = CaseAdminForm
    list_display = ["reference", "title", "status", "priority", "assigned_agent", "organization"]
    list_filter = ["organization", "status", "priority"]
    search_fields = ["title", "description", "number"]
    raw_id_fields = ["source_call"]
    autocomplete_fields = ["organization", "assigned_agent", "category", "contact"]
    readonly_fields = [
        "number",
        "origin",
        "source_disposition",
        "overdue_at",
        "created_by",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
    ]
    inlines = [CaseNoteInline, CaseHistoryInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A case never moves to another tenant (its number belongs to its organization).
        return [*self.readonly_fields, "organization"] if obj else list(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: Case, form: forms.ModelForm, change: bool
    ) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if not change:
            created = case_create(
                organization=obj.organization,
                actor=actor,
                **{field: getattr(obj, field) for field in CASE_TRACKED_FIELDS},
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changes = {
            field: getattr(obj, field)
            for field in form.changed_data
            if field in CASE_TRACKED_FIELDS
        }
        case_update(case=obj, actor=actor, **changes)
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        case: Case = form.instance
        for instance in formset.save(commit=False):
            instance.organization_id = case.organization_id
            if isinstance(instance, CaseNote) and instance.author_id is None:
                instance.author = request.user if isinstance(request.user, User) else None
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


@admin.register(CaseHistory)
class CaseHistoryAdmin(AuditedAdmin):
    list_display = ["case", "field", "changed_at", "changed_by", "organization"]
    list_filter = ["organization", "field"]
    search_fields = ["case__title", "field"]
    readonly_fields = [
        "organization",
        "case",
        "field",
        "old_value",
        "new_value",
        "changed_by",
        "changed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CaseNote)
class CaseNoteAdmin(AuditedAdmin):
    list_display = ["id", "case", "author", "created_at", "organization"]
    list_filter = ["organization"]
    search_fields = ["body", "case__title"]
    # Notes are added on their case (the inline there); here they can be corrected.
    readonly_fields = ["organization", "case", "author", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(AuditedAdmin):
    list_display = ["title", "kind", "user", "read_at", "created_at", "organization"]
    list_filter = ("organization", "kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ["title", "body", "user__username"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]


@admin.register(CaseSlaPolicy)
class CaseSlaPolicyAdmin(AuditedAdmin):
    """Business hours and response times; the model's clean() checks days and holidays."""

    list_display = ["organization", "day_start", "day_end", "urgent_minutes", "normal_minutes"]
    autocomplete_fields = ["organization"]


@admin.register(FollowUp)
class FollowUpAdmin(AuditedAdmin):
    list_display = ["id", "agent", "due_at", "status", "case", "organization"]
    list_filter = ["organization", "status"]
    raw_id_fields = ["source_call", "case", "contact", "agent", "disposition"]
    readonly_fields = ["organization", "source_call", "disposition", "created_at", "updated_at"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(AuditedAdmin):
    list_display = ["user", "kind", "in_app", "email", "organization"]
    list_filter = ["organization", "kind"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["organization"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(AuditedAdmin):
    """The outbox, for an operator to see what was (not) sent and why."""

    list_display = ["subject", "to_address", "kind", "created_at", "sent_at", "attempts"]
    list_filter = ("organization", "kind", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ["subject", "to_address"]
    readonly_fields = [
        "organization",
        "user",
        "kind",
        "to_address",
        "subject",
        "body",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
