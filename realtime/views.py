"""The browser pages: login, the agent console and the supervisor wallboard.

Thin: each page checks who is asking (the same rules as the WebSocket streams, so a
page never opens a socket that would be refused) and renders a template; everything
live comes over the socket (docs/realtime-protocol.md, static/realtime/js/).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from config.csp import console_allowances
from contactcenter.enums import Role
from contactcenter.forms import SignInForm
from contactcenter.selectors.access import is_floor_role
from realtime.screens.snapshot import Caller, caller_for, wallboard_queue_exists


def landing_url(caller: Caller | None) -> str | None:
    """Where a member starts: supervisors and admins on the wallboard, agents on the
    console; None for a user with no page (no membership, or no role that has one)."""
    if caller is None:
        return None
    if is_floor_role(caller.membership.role):
        return reverse("realtime:wallboard")
    if caller.agent is not None and caller.agent.is_active:
        return reverse("realtime:console")
    return None


def _refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    context = {"message": message, "status": status}
    return render(request, "realtime/problem.html", context, status=status)


def _no_page(request: HttpRequest) -> HttpResponse:
    return _refused(
        request,
        "Your account has no console or wallboard: it needs an active membership "
        "with an agent profile, or the supervisor or admin role.",
        status=403,
    )


class LoginView(auth_views.LoginView):
    """Django's login (session cookie); then the caller's own page unless ?next= says.
    The sign-in limits (contactcenter.services.signin) answer 429 with the wait."""

    template_name = "realtime/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return landing_url(caller_for(self.request.user)) or reverse("realtime:home")

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.wait)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule: a link must not sign anyone out). Signing out ends all
    of the user's sessions, tokens and sockets: contactcenter.signals calls
    ``user_revoke_sessions`` on every sign-out, this page's and the admin's alike."""

    next_page = "realtime:login"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("realtime:login")
    url = landing_url(caller_for(request.user))
    return redirect(url) if url else _no_page(request)


def _page_context(caller: Caller, **extra: Any) -> dict[str, Any]:
    return {
        "organization": caller.membership.organization,
        "membership": caller.membership,
        "is_floor": is_floor_role(caller.membership.role),
        "is_admin": caller.membership.role == Role.ADMIN,
        "has_console": caller.agent is not None and caller.agent.is_active,
        **extra,
    }


@require_GET
@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The agent console; /ws/agent/ needs an active agent profile, so this page does too."""
    caller = caller_for(request.user)
    if caller is None:
        return _no_page(request)
    if caller.agent is None or not caller.agent.is_active:
        if is_floor_role(caller.membership.role):
            return redirect("realtime:wallboard")
        return _no_page(request)
    response = render(request, "realtime/console.html", _page_context(caller, agent=caller.agent))
    # The softphone's connections, in the Content-Security-Policy (config/csp.py). A SIP
    # address changed while the page is open needs a reload.
    sip_urls = [caller.agent.sip_websocket_url, settings.SOFTPHONE_SIP_WEBSOCKET_URL]
    response._csp_update = console_allowances(sip_urls)  # type: ignore[attr-defined]
    return response


@require_GET
@login_required
def wallboard(request: HttpRequest) -> HttpResponse:
    """The floor, or one queue with ``?queue=<id>``; supervisors and admins only."""
    caller = caller_for(request.user)
    if caller is None:
        return _no_page(request)
    if not is_floor_role(caller.membership.role):
        if caller.agent is not None and caller.agent.is_active:
            return redirect("realtime:console")
        return _no_page(request)
    raw = request.GET.get("queue", "")
    queue_id: int | None = None
    if raw != "":
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            return _refused(request, "?queue= must be a queue id (a number).", status=400)
        queue_id = int(raw)
        if not wallboard_queue_exists(caller, queue_id):
            return _refused(request, f"There is no active queue {queue_id}.", status=404)
    return render(request, "realtime/wallboard.html", _page_context(caller, queue_id=queue_id))


@require_GET
@login_required
def supervisor(request: HttpRequest) -> HttpResponse:
    """The supervisor page beside the wallboard: every agent, their call, the actions
    (docs/supervisor.md); supervisors and admins only, as /ws/supervisor/."""
    caller = caller_for(request.user)
    if caller is None:
        return _no_page(request)
    if not is_floor_role(caller.membership.role):
        if caller.agent is not None and caller.agent.is_active:
            return redirect("realtime:console")
        return _no_page(request)
    return render(request, "realtime/supervisor.html", _page_context(caller))
