"""The admin's writes in the audit trail, and the audit trail in the admin (read only).

Django's admin saves through its own forms, not our services (unless an admin class
calls a service itself, which then records the entry). ``AuditedAdmin`` is the base
of every admin class of our apps (tests/contactcenter/test_admin_audit.py checks
it): what the admin adds, changes or deletes, its inlines included, is recorded with
the field values before and after (redacted as in every entry), the actor being the
signed-in operator (the request's, contactcenter/middleware.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from contactcenter.services import audit

VIA = {"via": "admin"}


def _stored(obj: models.Model) -> dict[str, Any] | None:
    """The row as stored (before the form's values are saved), as a snapshot."""
    if obj.pk is None:
        return None
    stored = type(obj)._base_manager.filter(pk=obj.pk).first()
    return audit.snapshot(stored) if stored is not None else None


def _saved(obj: models.Model, before: dict[str, Any] | None) -> None:
    if before is None:
        audit.created(obj, details=VIA)
        return
    # A membership's new role is a role change, as the services record it.
    role_changed = obj._meta.label_lower == "contactcenter.membership" and before.get(
        "role"
    ) != getattr(obj, "role", None)
    audit.updated(obj, before, action="role_change" if role_changed else "update")


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _stored(obj) if change else None
        super().save_model(request, obj, form, change)
        _saved(obj, before)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.deleted(obj, details=VIA)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            audit.deleted(obj, details=VIA)
        super().delete_queryset(request, queryset)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The inlines' rows: added, changed (compared with the stored row), deleted."""
        deleted, saved = [], []
        for formset in formsets:
            for inline_form in formset.forms:
                instance = inline_form.instance
                if formset.can_delete and formset._should_delete_form(inline_form):
                    if instance.pk is not None:
                        deleted.append(instance)
                elif inline_form.has_changed():
                    saved.append((inline_form, _stored(instance)))
        for instance in deleted:
            audit.deleted(instance, details=VIA)
        super().save_related(request, form, formsets, change)
        for inline_form, before in saved:
            if inline_form.instance.pk is not None:
                _saved(inline_form.instance, before)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
