"""The admin's edits that change who may do what end the user's sessions.

Django's admin saves models through its own forms, not our services, so each admin
class that can change a user's activation, role, organization or agent profile mixes
in the matching class below, which calls ``users_revoke_sessions`` (after the save,
inside the admin's transaction: the sockets close once it commits). A password set in
the admin is caught by contactcenter.signals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from contactcenter.admin_audit import AuditedAdmin
from contactcenter.models import Membership
from contactcenter.services import sessions

_MEMBERSHIP_ACCESS = {"role", "organization", "user"}


def _revoke(user_ids: Iterable[Any], reason: str) -> None:
    sessions.users_revoke_sessions(
        user_ids=[int(pk) for pk in user_ids if pk is not None], reason=reason
    )


def _previous(form: Any, field: str) -> Any:
    value = form.initial.get(field)
    return getattr(value, "pk", value)


class UserAccessAdmin(AuditedAdmin):
    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            _revoke([obj.pk], sessions.DEACTIVATED)

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            changed = [
                o.user_id
                for o, fields in formset.changed_objects
                if set(fields) & {"role", "organization"}
            ]
            _revoke(changed, sessions.ROLE_CHANGED)
            _revoke([o.user_id for o in formset.deleted_objects], sessions.MEMBERSHIP_REMOVED)

    def delete_model(self, request: Any, obj: Any) -> None:
        _revoke([obj.pk], sessions.USER_DELETED)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: QuerySet[Any]) -> None:
        _revoke(queryset.values_list("pk", flat=True), sessions.USER_DELETED)
        super().delete_queryset(request, queryset)


class MembershipAccessAdmin(AuditedAdmin):
    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and _MEMBERSHIP_ACCESS & set(form.changed_data):
            _revoke({obj.user_id, _previous(form, "user")}, sessions.ROLE_CHANGED)

    def delete_model(self, request: Any, obj: Any) -> None:
        _revoke([obj.user_id], sessions.MEMBERSHIP_REMOVED)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: QuerySet[Any]) -> None:
        _revoke(queryset.values_list("user_id", flat=True), sessions.MEMBERSHIP_REMOVED)
        super().delete_queryset(request, queryset)


class AgentAccessAdmin(AuditedAdmin):
    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            return
        users = set()
        if "user" in form.changed_data:
            users.add(_previous(form, "user"))
        if "is_active" in form.changed_data and not obj.is_active:
            users.add(obj.user_id)
        _revoke(users, sessions.AGENT_CHANGED)

    def delete_model(self, request: Any, obj: Any) -> None:
        _revoke([obj.user_id], sessions.AGENT_CHANGED)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: QuerySet[Any]) -> None:
        _revoke(queryset.values_list("user_id", flat=True), sessions.AGENT_CHANGED)
        super().delete_queryset(request, queryset)


def _members(organization_ids: Iterable[Any]) -> list[int]:
    members = Membership.objects.filter(organization_id__in=list(organization_ids))
    return list(members.values_list("user_id", flat=True))


class OrganizationAccessAdmin(AuditedAdmin):
    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            _revoke(_members([obj.pk]), sessions.ORGANIZATION_DEACTIVATED)

    def delete_model(self, request: Any, obj: Any) -> None:
        _revoke(_members([obj.pk]), sessions.ORGANIZATION_DEACTIVATED)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: QuerySet[Any]) -> None:
        _revoke(_members(queryset.values_list("pk", flat=True)), sessions.ORGANIZATION_DEACTIVATED)
        super().delete_queryset(request, queryset)
