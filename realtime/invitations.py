"""The invitation page, where an invited person chooses their password.

The link of the e-mail, /invite/<token>/, only puts the token in the browser's session
and redirects to /invite/accept/ (as Django's password reset does): every answer that
says something, the form, its errors, "expired", "too many tries", is on a URL without
the token, so no log line of a 4xx and no Referer carries a link that still works.

A form with CSRF, like the sign-in page; the token is checked on every request (GET
and POST), so a link revoked or used in another tab meanwhile says so. Links that do
not exist count as failed sign-ins of the client's address (contactcenter.services.signin):
guessing them is limited like guessing passwords, and an address that did too much of
either waits. Nothing here is cached.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from contactcenter.errors import ApplicationError
from contactcenter.models import Invitation, User
from contactcenter.models.invitations import token_hash
from contactcenter.selectors.invitations import invitation_by_token
from contactcenter.services.invitations import (
    UNUSABLE_MESSAGES,
    InvitationUnusable,
    invitation_accept,
    invitation_usable,
)
from contactcenter.services.signin import (
    client_address,
    signin_failed,
    signin_wait,
    too_many_message,
)

TEMPLATE = "realtime/invitation.html"
SESSION_KEY = "invitation_token"
# What secrets.token_urlsafe(32) gives: anything else is not a link we sent.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_NO_LINK = "Open the link of your invitation e-mail (this page works from it only)."


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def __init__(self, invitation: Invitation, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", "The two passwords differ.")
            else:
                invitation = self.invitation
                # The rules compare the password with who the person will be.
                person = User(
                    username=invitation.username,
                    email=invitation.email,
                    first_name=invitation.first_name,
                    last_name=invitation.last_name,
                )
                try:
                    validate_password(first, user=person)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return cleaned


def _page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return _page(request, status, problem=message)


@never_cache
@require_GET
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link: checked on the next page, which has no token in its URL."""
    request.session[SESSION_KEY] = token[:64]  # longer is not ours anyway
    return redirect("realtime:invite-accept")


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        return _refused(request, _NO_LINK, 404)
    address = client_address(request)
    # Counted per guessed link (harmless) and per address (what limits guessing).
    subject = "invitation:" + token_hash(token)[:16]
    wait = signin_wait(username=subject, address=address)
    if wait:
        response = _refused(request, too_many_message(wait), 429)
        response["Retry-After"] = str(wait)
        return response
    invitation = invitation_by_token(token) if _TOKEN.fullmatch(token) else None
    if invitation is None:
        del request.session[SESSION_KEY]
        signin_failed(username=subject, address=address, path="/invite/")
        return _refused(request, UNUSABLE_MESSAGES["unknown"], 404)
    try:
        invitation_usable(invitation)
    except InvitationUnusable as exc:  # the token stays: this page keeps saying why
        return _refused(request, exc.message, exc.status)
    form = ChoosePasswordForm(invitation, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["password1"])
        except ApplicationError as exc:  # used or revoked meanwhile; username taken
            return _refused(request, exc.message, exc.status)
        return _page(request, 200, done=True, username=user.username, invitation=invitation)
    return _page(request, 400 if form.is_bound else 200, form=form, invitation=invitation)
