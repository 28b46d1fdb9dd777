"""Admin forms that keep secrets write-only.

The agent page showed the softphone's SIP password in clear, in the page's HTML, to
anyone who could open it. Now it is typed into a password input that never renders the
stored value; left blank, the stored password stays. A staff user who may only view
agents does not see the field at all (a read-only field prints its value).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from contactcenter.models import Agent

SECRET_FIELDS = ("sip_password",)


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        # The admin decides the fields shown; a narrower list here would narrow its page.
        fields = "__all__"  # noqa: DJ007
        widgets = {"sip_password": forms.PasswordInput(render_value=False)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("sip_password")
        if field is None:
            return
        # Blank as its initial value: the stored one never reaches the page, and a blank
        # answer is "unchanged" (not a change the history would list).
        self.initial["sip_password"] = ""
        if self.instance.pk and self.instance.sip_password:
            field.help_text = "Set. Leave blank to keep the current password."

    def clean_sip_password(self) -> str:
        value = str(self.cleaned_data.get("sip_password") or "")
        if not value and self.instance.pk:
            return str(self.instance.sip_password)
        return value


def without_secrets(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, obj: Any, exclude: Any
) -> list[str]:
    """``exclude`` plus the secret fields for staff who may view but not change: a
    read-only field prints its value."""
    exclude = list(exclude or [])
    if not model_admin.has_change_permission(request, obj):
        exclude += [name for name in SECRET_FIELDS if name not in exclude]
    return exclude
