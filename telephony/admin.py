from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join

from contactcenter.admin_audit import AuditedAdmin
from telephony.ami.targets import record_connection_key
from telephony.cel.source import parse_url
from telephony.egress import TargetRefused, check_target
from telephony.models import AsteriskConnection, CallLogReconciliation, TwilioAccount
from telephony.tasks import reconcile_connection_day, yesterday


class _SecretForm(forms.ModelForm):
    """Secrets are typed in but never shown back; blank keeps the stored one."""

    secret_field = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields[self.secret_field]
        field.widget = forms.PasswordInput(render_value=False)
        field.required = self.instance.pk is None
        field.help_text = "Leave blank to keep the current value." if self.instance.pk else ""

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if self.instance.pk and not cleaned.get(self.secret_field):
            cleaned[self.secret_field] = getattr(self.instance, self.secret_field)
        return cleaned


_CEL_DEFAULTED = ("cel_table", "cel_cdr_table", "cel_time_zone")


class AsteriskConnectionForm(_SecretForm):
    secret_field = "secret"

    def clean(self) -> dict[str, object]:
        """The operator's target policy applies here too (AMI_ALLOWED_TARGETS), when the
        target changes (check_target refuses a malformed host before any DNS lookup)."""
        cleaned = super().clean()
        host, port = cleaned.get("host"), cleaned.get("port")
        changed = {"host", "port"} & set(self.changed_data) or self.instance.pk is None
        if changed and isinstance(host, str) and isinstance(port, int):
            try:
                check_target(host, port)
            except TargetRefused as exc:
                self.add_error("host", str(exc))
        self._clean_cel(cleaned)
        return cleaned

    def _clean_cel(self, cleaned: dict[str, object]) -> None:
        """The CEL source's password is write-only like the AMI secret (blank keeps it),
        and its host passes the same policy as the PBX's, when the URL changes."""
        if self.instance.pk and not cleaned.get("cel_password"):
            cleaned["cel_password"] = self.instance.cel_password
        for name in _CEL_DEFAULTED:  # left empty: the usual name (the sample configs')
            if not cleaned.get(name):
                cleaned[name] = getattr(AsteriskConnection(), name)
        url = cleaned.get("cel_url")
        if "cel_url" in self.changed_data and isinstance(url, str) and url:
            try:
                parts = parse_url(url, allow_password=False)
                check_target(parts.host, parts.port)
            except (ValidationError, TargetRefused) as exc:
                self.add_error("cel_url", str(getattr(exc, "message", exc)))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in _CEL_DEFAULTED:
            self.fields[name].required = False
        field = self.fields["cel_password"]
        field.widget = forms.PasswordInput(render_value=False)
        field.required = False
        if self.instance.pk:
            field.help_text = "Leave blank to keep the current value."

    class Meta:
        model = AsteriskConnection
        fields = [
            "organization",
            "name",
            "host",
            "port",
            "username",
            "secret",
            "is_enabled",
            "cel_url",
            "cel_password",
            "cel_table",
            "cel_queue_log_table",
            "cel_cdr_table",
            "cel_time_zone",
            "trunks",
            "inbound_contexts",
        ]


class TwilioAccountForm(_SecretForm):
    secret_field = "auth_token"

    class Meta:
        model = TwilioAccount
        fields = ["organization", "account_sid", "auth_token", "is_enabled"]


@admin.register(AsteriskConnection)
class AsteriskConnectionAdmin(AuditedAdmin):
    form = AsteriskConnectionForm
    list_display = ["name", "organization", "host", "port", "username", "is_enabled"]
    list_filter = ["organization", "is_enabled"]
    search_fields = ["name", "host"]
    actions = ["reconcile_yesterday"]

    @admin.action(description="Reconcile yesterday's calls with the PBX's CDRs now")
    def reconcile_yesterday(self, request: object, queryset: object) -> None:
        for record in queryset:  # type: ignore[attr-defined]
            day = yesterday(record.organization_id)
            reconcile_connection_day.delay(
                record.organization_id, record_connection_key(record.pk), day.isoformat()
            )
        self.message_user(request, "Reconciliation queued; see Call log reconciliations.")  # type: ignore[arg-type]


@admin.register(CallLogReconciliation)
class CallLogReconciliationAdmin(AuditedAdmin):
    """What each reconciliation found: read-only, it is a report."""

    list_display = [
        "day",
        "connection_key",
        "organization",
        "pbx_calls",
        "stored_calls",
        "missing",
        "estimated",
        "different",
        "unknown_to_pbx",
        "repaired",
        "error",
    ]
    list_filter = ["organization", "connection_key"]
    date_hierarchy = "day"
    readonly_fields = ["listed"]

    @admin.display(description="calls by finding")
    def listed(self, obj: CallLogReconciliation) -> str:
        return format_html_join(
            "", "<p><b>{}</b>: {}</p>", ((k, ", ".join(v)) for k, v in obj.details.items())
        )

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TwilioAccount)
class TwilioAccountAdmin(AuditedAdmin):
    form = TwilioAccountForm
    list_display = ["account_sid", "organization", "is_enabled"]
    list_filter = ["organization", "is_enabled"]
