from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from contactcenter.admin_access import (
    AgentAccessAdmin,
    MembershipAccessAdmin,
    OrganizationAccessAdmin,
    UserAccessAdmin,
)
from contactcenter.admin_audit import AuditedAdmin, ReadOnlyAdmin
from contactcenter.admin_forms import AgentAdminForm, without_secrets
from contactcenter.forms import AdminSignInForm
from contactcenter.models import (
    Agent,
    AgentStateLog,
    APIKey,
    AuditEntry,
    Call,
    CallDisposition,
    CallEvent,
    CallQueue,
    CallTransfer,
    Membership,
    Organization,
    QueueAlert,
    QueueMembership,
    User,
)

# The admin's login under the same sign-in limits as every other (contactcenter.forms).
admin.site.login_form = AdminSignInForm


class MembershipInline(admin.StackedInline):
    model = Membership
    extra = 0
    can_delete = False


@admin.register(User)
class UserAdmin(UserAccessAdmin, BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]


@admin.register(Organization)
class OrganizationAdmin(OrganizationAccessAdmin):
    list_display = ["name", "slug", "time_zone", "default_region", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(MembershipAccessAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["organization", "role"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Agent)
class AgentAdmin(AgentAccessAdmin):
    list_display = ["name", "extension", "interface", "organization", "state", "is_active"]
    list_filter = ["organization", "state", "is_active"]
    search_fields = ["name", "extension", "interface"]
    raw_id_fields = ["user"]
    form = AgentAdminForm  # the SIP password is write-only (contactcenter/admin_forms.py)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return without_secrets(self, request, obj, super().get_exclude(request, obj))


@admin.register(AgentStateLog)
class AgentStateLogAdmin(AuditedAdmin):
    list_display = ["agent", "state", "reason", "started_at", "ended_at", "organization"]
    list_filter = ["organization", "state"]
    raw_id_fields = ["agent"]
    date_hierarchy = "started_at"


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    raw_id_fields = ["agent"]


@admin.register(CallQueue)
class CallQueueAdmin(AuditedAdmin):
    list_display = ["name", "pbx_queue_name", "organization", "strategy", "service_level_seconds"]
    list_filter = ["organization", "strategy", "is_active"]
    search_fields = ["name", "pbx_queue_name"]
    inlines = [QueueMembershipInline]


@admin.register(QueueAlert)
class QueueAlertAdmin(ReadOnlyAdmin):
    """Raised and cleared alerts: a record, written only by services.queue_alerts."""

    list_display = ["queue", "kind", "threshold", "value", "raised_at", "cleared_at"]
    list_filter = ["organization", "kind"]
    date_hierarchy = "raised_at"


@admin.register(QueueMembership)
class QueueMembershipAdmin(AuditedAdmin):
    list_display = ["queue", "agent", "penalty", "paused", "paused_reason", "is_logged_in"]
    list_filter = ["organization", "paused", "is_logged_in"]
    raw_id_fields = ["queue", "agent"]


@admin.register(CallDisposition)
class CallDispositionAdmin(AuditedAdmin):
    list_display = ["name", "code", "organization", "requires_case_creation", "requires_follow_up"]
    list_filter = ["organization", "requires_case_creation", "requires_follow_up", "is_active"]
    search_fields = ["name", "code"]


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    fields = ["type", "occurred_at", "agent", "details"]
    readonly_fields = ["type", "occurred_at", "agent", "details"]
    can_delete = False


class CallTransferInline(admin.TabularInline):
    model = CallTransfer
    extra = 0
    raw_id_fields = ["from_agent", "to_agent"]


@admin.register(Call)
class CallAdmin(AuditedAdmin):
    list_display = [
        "external_id",
        "organization",
        "direction",
        "status",
        "caller_number",
        "queue",
        "agent",
        "started_at",
        "wait_seconds",
        "talk_seconds",
    ]
    list_filter = ["organization", "source", "direction", "status", "queue"]
    search_fields = ["external_id", "caller_number", "caller_name", "callee_number"]
    raw_id_fields = ["agent", "contact", "queue", "disposition", "disposition_set_by"]
    date_hierarchy = "started_at"
    inlines = [CallEventInline, CallTransferInline]


@admin.register(CallEvent)
class CallEventAdmin(AuditedAdmin):
    list_display = ["call", "type", "occurred_at", "agent", "organization"]
    list_filter = ["organization", "type"]
    search_fields = ["call__external_id", "dedup_key"]
    raw_id_fields = ["call", "agent"]


@admin.register(CallTransfer)
class CallTransferAdmin(AuditedAdmin):
    list_display = ["call", "kind", "status", "from_agent", "to_agent", "to_number", "requested_at"]
    list_filter = ["organization", "kind", "status"]
    raw_id_fields = ["call", "from_agent", "to_agent"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail: read only here as everywhere (contactcenter/admin_audit.py)."""

    list_display = ["at", "organization", "actor_kind", "actor_label", "action", "object_type"]
    list_filter = ["actor_kind", "action", "object_type"]
    search_fields = ["actor_label", "object_id", "object_label", "request_id"]
    raw_id_fields = ["organization"]
    date_hierarchy = "at"
    show_full_result_count = False  # the table only grows: no COUNT(*) per page


@admin.register(APIKey)
class APIKeyAdmin(ReadOnlyAdmin):
    """Shown; made, rotated and revoked by organization admins over REST (the key is
    shown once, there)."""

    list_display = ["name", "prefix", "organization", "role", "expires_at", "revoked_at"]
    list_filter = ["organization", "role"]
    search_fields = ["name", "prefix"]
    exclude = ["key_hash"]
