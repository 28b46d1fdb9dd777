"""The sign-in forms of the pages: Django's, saying clearly when the limits refuse.

The limits themselves are enforced by ``contactcenter.backends`` for every sign-in; the
forms look first so that a locked account or address reads "try again in N seconds",
not "wrong password" (and the password is not checked meanwhile).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from contactcenter.services.signin import client_address, signin_wait, too_many_message


class _SignInLimits(forms.Form):
    request: Any
    wait = 0  # seconds before the next try, when the limits refused this one

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if isinstance(username, str) and self.cleaned_data.get("password"):
            self.wait = signin_wait(username=username, address=client_address(self.request))
            if self.wait:
                raise forms.ValidationError(too_many_message(self.wait), code="throttled")
        cleaned = super().clean()
        return cleaned if cleaned is not None else self.cleaned_data


class SignInForm(_SignInLimits, AuthenticationForm):
    """/login/ (realtime.views.LoginView)."""


class AdminSignInForm(_SignInLimits, AdminAuthenticationForm):
    """/admin/login/ (contactcenter.admin sets it on the admin site)."""
