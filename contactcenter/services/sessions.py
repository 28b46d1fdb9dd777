"""Ending what a user is signed in with: tokens, sessions, WebSocket tickets, sockets.

Each user has an auth epoch (``User.auth_epoch``). Everything issued to them carries
the epoch it was issued under: the JWTs as the ``auth_epoch`` claim (checked by
``contactcenter.api.authentication`` on every request and when a refresh token is
used), the session through its auth hash (``User._get_session_auth_hash``: Django and
channels check it on every request and socket), a WebSocket ticket in its payload.
``user_revoke_sessions`` raises the epoch, which ends all of them at once, in every
server process; it also blacklists the user's outstanding refresh tokens, and after
commit sends ``session.revoked`` to ``sockets.<user id>``, which every socket of the
user has joined, so each closes with 4401 (docs/realtime-protocol.md). A command that
reaches a socket before that message is refused too (the consumer checks the epoch
before each command).

Called by the services that sign out, change a password, a role or an activation
(contactcenter.services.organizations, contactcenter.api.auth, realtime.views, the
admin, and contactcenter.signals for a password set by Django's own forms).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from contactcenter import publish
from contactcenter.models import Membership, User
from contactcenter.services import audit

logger = logging.getLogger(__name__)

AUTH_EPOCH_CLAIM = "auth_epoch"

# Why a user's sessions were revoked: the log line says which.
SIGNED_OUT = "signed_out"
PASSWORD_CHANGED = "password_changed"
DEACTIVATED = "deactivated"
ROLE_CHANGED = "role_changed"
MEMBERSHIP_REMOVED = "membership_removed"
AGENT_CHANGED = "agent_changed"
ORGANIZATION_DEACTIVATED = "organization_deactivated"
USER_DELETED = "user_deleted"
REFRESH_REUSED = "refresh_reused"


@transaction.atomic
def users_revoke_sessions(*, user_ids: Iterable[int], reason: str) -> None:
    """Raise the users' epochs, blacklist their refresh tokens, close their sockets
    (``session.revoked`` to ``sockets.<id>``, after commit). Ids of users that no longer
    exist close their sockets only (a deleted user's tokens and sessions find no user)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    User.objects.filter(pk__in=ids).update(auth_epoch=F("auth_epoch") + 1)
    outstanding = OutstandingToken.objects.filter(
        user_id__in=ids, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("pk", flat=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in outstanding], ignore_conflicts=True
    )
    organizations = dict(
        Membership.objects.filter(user_id__in=ids).values_list("user_id", "organization_id")
    )
    audit.record_many(
        [
            audit.Entry(
                action="sessions_revoke",
                organization_id=organizations.get(user_id),
                object_type="contactcenter.user",
                object_id=user_id,
                details={"reason": reason},
            )
            for user_id in ids
        ]
    )
    publish.sessions_revoked(user_ids=ids)
    for user_id in ids:
        logger.info(
            "sessions revoked: user %s (%s)",
            user_id,
            reason,
            extra={"event": "sessions.revoked", "user_id": user_id, "reason": reason},
        )


def tokens_flush_expired() -> int:
    """Forget refresh tokens past their expiry, blacklisted or not: a token that has
    expired is refused for that alone (celery beat runs this every hour). Returns how
    many went."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    if deleted:
        audit.record(
            action="purge",
            organization_id=None,
            object_type="token_blacklist.outstandingtoken",
            details={"count": deleted},
        )
    return deleted


def user_revoke_sessions(*, user: User, reason: str) -> None:
    """``users_revoke_sessions`` for one user; ``user.auth_epoch`` is brought up to date,
    so a caller that keeps the current session (``update_session_auth_hash`` after a
    password change) hashes the new epoch."""
    users_revoke_sessions(user_ids=[user.pk], reason=reason)
    user.auth_epoch = User.objects.values_list("auth_epoch", flat=True).get(pk=user.pk)
