"""Role permissions. Scoping rows to the organization is the viewsets' job (tenancy.py).

A view states which roles may read and which may write; the defaults let every
member read and only admins write (configuration). Views that agents work on widen
``write_roles``; per-row limits for agents (their own calls, their cases) are applied
to the queryset, so a row an agent may not see is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from contactcenter.api.apikeys_auth import KEY_READ_ONLY, KEY_REFUSED, resource_of
from contactcenter.enums import Role
from contactcenter.models import APIKey, Membership
from contactcenter.selectors.access import membership_for_user

ALL_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
FLOOR_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
ADMIN_ONLY = frozenset({Role.ADMIN})


def request_membership(request: Request) -> Membership | None:
    """The caller's membership, looked up once per request. An API key's is a
    membership of its organization with its role and no user (never saved)."""
    cached: Membership | bool | None = getattr(request, "_cc_membership", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    key = getattr(request, "auth", None)
    if isinstance(key, APIKey):
        membership: Membership | None = Membership(organization=key.organization, role=key.role)
    else:
        membership = membership_for_user(request.user)
    request._cc_membership = membership  # type: ignore[attr-defined]
    return membership


def _api_key_refusal(request: Request, key: APIKey) -> str | None:
    """Why this API key may not make this request, or None."""
    resource = resource_of(request.path)
    if resource in KEY_REFUSED or not resource:
        return "API keys are not accepted here."
    writes = request.method not in SAFE_METHODS
    if writes and (resource in KEY_READ_ONLY or resource not in key.write_resources):
        # KEY_READ_ONLY too: a key stored with such a resource before it was one.
        return f"This API key may not write to {resource}."
    return None


class IsOrganizationMember(BasePermission):
    """Authenticated, with a membership of an active organization, in an allowed role."""

    message = "You are not a member of an organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        if membership is None:
            return False
        if isinstance(request.auth, APIKey):
            refusal = _api_key_refusal(request, request.auth)
            if refusal is not None:
                self.message = refusal
                return False
        if request.method in SAFE_METHODS:
            allowed = getattr(view, "read_roles", ALL_ROLES)
        else:
            allowed = getattr(view, "write_roles", ADMIN_ONLY)
            action_roles = getattr(view, "action_write_roles", {}).get(getattr(view, "action", ""))
            if action_roles is not None:
                allowed = action_roles
        if membership.role not in allowed:
            self.message = "Your role does not allow this."
            return False
        return True
