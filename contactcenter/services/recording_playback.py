"""Playing a recording back: short-lived signed links, and who played what, when.

A link names the recording, the organization and the person it was issued to, signed
with the installation's secret and valid ``RECORDINGS_URL_SECONDS``: an ``<audio>``
element can fetch it (and seek, with HTTP Range) without sending a token of its own,
and a link copied elsewhere stops working soon, and whenever its person leaves. Each
link is new (a nonce: two asked for in the same second would otherwise be equal, and a
browser plays a second player of the same URL from the first one's data, unaudited).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from contactcenter.models import Recording
from contactcenter.services import audit

_SALT = "contactcenter.recordings.media"


@dataclass(frozen=True)
class MediaGrant:
    recording_id: int
    organization_id: int
    user_id: int | None


def recording_media_token(*, recording: Recording, user_id: int | None) -> str:
    """A signed link token for ``recording`` (the caller checked the person may see its call)."""
    return signing.dumps(
        {
            "r": recording.pk,
            "o": recording.organization_id,
            "u": user_id,
            "n": secrets.token_urlsafe(6),
        },
        salt=_SALT,
    )


def recording_media_grant(*, token: str) -> MediaGrant | None:
    """What a token allows, or None when it is forged, altered or expired."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.RECORDINGS_URL_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = data.get("u")
    return MediaGrant(
        recording_id=int(data["r"]),
        organization_id=int(data["o"]),
        user_id=int(user) if user is not None else None,
    )


def recording_played(*, recording: Recording, user: object | None) -> None:
    """Someone started playing ``recording``: a ``recording.play`` audit entry."""
    audit.record(
        action="recording.play",
        organization_id=recording.organization_id,
        obj=recording,
        object_label=f"call {recording.call_id}",
        actor=audit.actor_as(user) if user is not None else None,
    )
