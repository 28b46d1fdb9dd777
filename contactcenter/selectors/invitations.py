"""Reading invitations: by the token of a link, and an organization's list."""

from __future__ import annotations

from django.db.models import QuerySet

from contactcenter.models import Invitation
from contactcenter.models.invitations import token_hash


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation whose link carries ``token`` (whatever its status), or None. The
    token is looked up by its hash, the only form stored."""
    return (
        Invitation.objects.select_related("organization", "agent")
        .filter(token_hash=token_hash(token))
        .first()
    )


def invitation_list(*, organization_id: int) -> QuerySet[Invitation]:
    return Invitation.objects.for_organization(organization_id).select_related(
        "agent", "invited_by", "user"
    )
