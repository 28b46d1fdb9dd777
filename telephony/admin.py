from django import forms
from django.contrib import admin

from telephony.egress import TargetRefused, check_target
from telephony.models import AsteriskConnection, TwilioAccount


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
        return cleaned

    class Meta:
        model = AsteriskConnection
        fields = ["organization", "name", "host", "port", "username", "secret", "is_enabled"]


class TwilioAccountForm(_SecretForm):
    secret_field = "auth_token"

    class Meta:
        model = TwilioAccount
        fields = ["organization", "account_sid", "auth_token", "is_enabled"]


@admin.register(AsteriskConnection)
class AsteriskConnectionAdmin(admin.ModelAdmin):
    form = AsteriskConnectionForm
    list_display = ["name", "organization", "host", "port", "username", "is_enabled"]
    list_filter = ["organization", "is_enabled"]
    search_fields = ["name", "host"]


@admin.register(TwilioAccount)
class TwilioAccountAdmin(admin.ModelAdmin):
    form = TwilioAccountForm
    list_display = ["account_sid", "organization", "is_enabled"]
    list_filter = ["organization", "is_enabled"]
