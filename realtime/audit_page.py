"""/audit/: the organization's audit trail for its admins, a page at a time.

The same filters as GET /api/v1/audit-log/ (its filter class: actor, object, action,
time range), newest first, paged by id (``?before=<id>``: the entries older than it),
so a page costs an index scan and no count, however long the trail. Read only, like
the trail everywhere.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contactcenter.api.audit import AuditEntryFilter
from contactcenter.enums import Role
from contactcenter.models import ActorKind
from contactcenter.selectors.audit import audit_entry_list
from realtime.screens.snapshot import caller_for
from realtime.views import _no_page, _page_context, _refused

PAGE_SIZE = 100


@require_GET
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    caller = caller_for(request.user)
    if caller is None:
        return _no_page(request)
    if caller.membership.role != Role.ADMIN:
        return _refused(request, "The audit trail is for the organization's admins.", status=403)
    raw_before = request.GET.get("before", "")
    if raw_before and not (raw_before.isascii() and raw_before.isdigit() and len(raw_before) < 19):
        return _refused(request, "?before= must be an entry id (a number).", status=400)
    query = request.GET.copy()
    query.pop("before", None)
    rows = audit_entry_list(
        organization_id=caller.membership.organization_id,
        before=int(raw_before) if raw_before else None,
    )
    filters = AuditEntryFilter(query, queryset=rows)
    if not filters.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in filters.errors.items())
        return _refused(request, f"Check the filters: {problems}", status=400)
    entries = list(filters.qs[: PAGE_SIZE + 1])
    older = entries[PAGE_SIZE - 1].pk if len(entries) > PAGE_SIZE else None
    context = _page_context(
        caller,
        entries=entries[:PAGE_SIZE],
        older_query=_with(query, before=older) if older is not None else "",
        query=query,
        actor_kinds=ActorKind.choices,
    )
    return render(request, "realtime/audit.html", context)


def _with(query: object, **extra: object) -> str:
    params = query.copy()  # type: ignore[attr-defined]
    for key, value in extra.items():
        params[key] = str(value)
    return str(params.urlencode())
