"""/calls/: the organization's calls for its supervisors and admins, newest first, each
recorded one with its player (docs/recordings.md).

The page is an empty shell: the rows come from ``GET /api/v1/calls/`` with the page's session,
which decides what the person sees (the floor: the whole organization), and a recording
plays through the call's recordings and their signed links, authorized as the call
itself. Agents have their own recent calls on the console and are sent there.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from contactcenter.selectors.access import is_floor_role
from realtime.screens.snapshot import caller_for
from realtime.views import _no_page, _page_context


@require_GET
@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    caller = caller_for(request.user)
    if caller is None:
        return _no_page(request)
    if not is_floor_role(caller.membership.role):
        if caller.agent is not None and caller.agent.is_active:
            return redirect("realtime:console")
        return _no_page(request)
    return render(request, "realtime/calls.html", _page_context(caller))
