"""Playing a voicemail back: the same rules as a recording's (contactcenter/services/
recording_playback.py): a short-lived signed link naming the voicemail, its organization
and the person it was issued to, and every playback audited (``voicemail.play``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from contactcenter.models import Voicemail
from contactcenter.services import audit

_SALT = "contactcenter.voicemails.media"


@dataclass(frozen=True)
class VoicemailGrant:
    voicemail_id: int
    organization_id: int
    user_id: int | None


def voicemail_media_token(*, voicemail: Voicemail, user_id: int | None) -> str:
    """A signed link token for ``voicemail`` (the caller checked the person may see it)."""
    return signing.dumps(
        {
            "v": voicemail.pk,
            "o": voicemail.organization_id,
            "u": user_id,
            "n": secrets.token_urlsafe(6),
        },
        salt=_SALT,
    )


def voicemail_media_grant(*, token: str) -> VoicemailGrant | None:
    """What a token allows, or None when it is forged, altered or expired. A recording's
    token is no voicemail's (another salt)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.RECORDINGS_URL_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = data.get("u")
    return VoicemailGrant(
        voicemail_id=int(data["v"]),
        organization_id=int(data["o"]),
        user_id=int(user) if user is not None else None,
    )


def voicemail_played(*, voicemail: Voicemail, user: object | None) -> None:
    """Someone started playing ``voicemail``: a ``voicemail.play`` audit entry."""
    audit.record(
        action="voicemail.play",
        organization_id=voicemail.organization_id,
        obj=voicemail,
        actor=audit.actor_as(user) if user is not None else None,
    )
