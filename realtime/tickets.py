"""Short-lived WebSocket tickets, so a long-lived JWT never sits in a URL.

A REST client (authenticated with its JWT or session) asks for a ticket and opens the
socket with ``?ticket=...`` within ``REALTIME_TICKET_SECONDS``. The ticket is signed
(django.core.signing, salted) and carries the user id, the user's auth epoch and a
nonce; the nonce is claimed in the cache on first use, so a ticket opens one
connection only. With Redis as the cache that holds across server processes. The
epoch makes a ticket issued before the user's sessions were revoked worthless
(realtime.auth compares it with the user's).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache

_SALT = "realtime.ticket"


def ticket_issue(*, user_id: int, auth_epoch: int = 0) -> str:
    """A ticket for the user at their current ``auth_epoch`` (``User.auth_epoch``; 0 for
    one never revoked). A wrong epoch fails safe: the ticket is refused."""
    payload = {"u": user_id, "e": auth_epoch, "n": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=_SALT)


def ticket_redeem(ticket: str) -> tuple[int, int] | None:
    """The user id and auth epoch of a valid, unexpired, unused ticket; None otherwise."""
    lifetime = settings.REALTIME_TICKET_SECONDS
    try:
        payload = signing.loads(ticket, salt=_SALT, max_age=lifetime)
    except signing.BadSignature:  # forged, altered or expired (SignatureExpired)
        return None
    if not isinstance(payload, dict):
        return None
    user_id, epoch, nonce = payload.get("u"), payload.get("e", 0), payload.get("n")
    if not isinstance(user_id, int) or not isinstance(epoch, int) or not isinstance(nonce, str):
        return None
    # cache.add is atomic: of two connections racing with one ticket, only one wins.
    if not cache.add(f"{settings.REALTIME_KEY_PREFIX}:ticket:{nonce}", 1, timeout=lifetime + 5):
        return None
    return user_id, epoch
