"""Who the caller is in the tenancy: the reads every API and consumer starts from."""

from __future__ import annotations

from typing import Any

from contactcenter.enums import Role
from contactcenter.models import Agent, Membership, User


def membership_for_user(user: Any) -> Membership | None:
    """The active membership of an authenticated user, or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    fields_cache = getattr(getattr(user, "_state", None), "fields_cache", {})
    if "membership" in fields_cache:
        # Read with the user (select_related, e.g. the REST JWT authentication's): None
        # when the user has no membership.
        membership = fields_cache["membership"]
        if membership is None:
            return None
    else:
        try:
            membership = Membership.objects.select_related("organization").get(user=user)
        except Membership.DoesNotExist:
            return None
    if not membership.organization.is_active:
        return None
    return membership


def user_signed_in(*, user_id: int, auth_epoch: int) -> User | None:
    """The user who signed in under ``auth_epoch``, if that still holds (as
    ``session_is_current``)."""
    return User.objects.filter(pk=user_id, auth_epoch=auth_epoch, is_active=True).first()


def session_is_current(*, user_id: int, auth_epoch: int) -> bool:
    """Whether what the user signed in with under ``auth_epoch`` still holds: the user is
    active and nothing was revoked since (contactcenter.services.sessions)."""
    return User.objects.filter(pk=user_id, auth_epoch=auth_epoch, is_active=True).exists()


def membership_signed_in(*, user_id: int, auth_epoch: int) -> tuple[bool, Membership | None]:
    """``session_is_current`` and, if it is, ``membership_for_user``, in one query:
    (False, None) when what the user signed in with no longer holds, (True, None) for a
    member of no active organization."""
    user = (
        User.objects.filter(pk=user_id, auth_epoch=auth_epoch, is_active=True)
        .select_related("membership__organization")
        .first()
    )
    if user is None:
        return False, None
    try:
        membership = user.membership
    except Membership.DoesNotExist:
        return True, None
    return True, membership if membership.organization.is_active else None


def agent_for_membership(membership: Membership) -> Agent | None:
    if membership.user_id is None:  # an API key's: no person, so no agent profile
        return None
    user = membership._state.fields_cache.get("user")
    if user is not None and "agent" in user._state.fields_cache:
        # Read with the user and membership (the REST JWT authentication's one query).
        agent: Agent | None = user._state.fields_cache["agent"]
        return agent if agent and agent.organization_id == membership.organization_id else None
    return (
        Agent.objects.for_organization(membership.organization_id)
        .filter(user_id=membership.user_id)
        .first()
    )


def is_floor_role(role: str) -> bool:
    """Supervisors and admins see their organization's whole floor."""
    return role in (Role.ADMIN, Role.SUPERVISOR)
