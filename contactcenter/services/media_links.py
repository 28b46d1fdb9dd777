"""Playing stored audio back (a call's recording, a voicemail): short-lived signed
links, and who played what, when.

A link names the recording or voicemail, its organization and the person it was issued
to, signed with the installation's secret and valid ``RECORDINGS_URL_SECONDS``: an
``<audio>`` element can fetch it (and seek, with HTTP Range: contactcenter/api/media.py)
without sending a token of its own, and a link copied elsewhere stops working soon, and
whenever its person leaves. Each kind signs with its own salt, so a recording's link is
no voicemail's. Each link is new (a nonce: two asked for in the same second would
otherwise be equal, and a browser plays a second player of the same URL from the first
one's data, unaudited). Every playback is audited (``recording.play``,
``voicemail.play``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core import signing

from contactcenter.models import Recording, Voicemail
from contactcenter.services import audit

MediaKind = Literal["recording", "voicemail"]


@dataclass(frozen=True)
class _Signing:
    salt: str
    key: str  # the id's key in the signed payload


_SIGNING: dict[MediaKind, _Signing] = {
    "recording": _Signing(salt="contactcenter.recordings.media", key="r"),
    "voicemail": _Signing(salt="contactcenter.voicemails.media", key="v"),
}


@dataclass(frozen=True)
class MediaGrant:
    kind: MediaKind
    object_id: int  # the recording's or the voicemail's
    organization_id: int
    user_id: int | None


def media_kind(media: Recording | Voicemail) -> MediaKind:
    """Which kind of stored audio ``media`` is."""
    return "recording" if isinstance(media, Recording) else "voicemail"


def media_token(*, media: Recording | Voicemail, user_id: int | None) -> str:
    """A signed link token for ``media`` (the caller checked the person may see it)."""
    how = _SIGNING[media_kind(media)]
    return signing.dumps(
        {
            how.key: media.pk,
            "o": media.organization_id,
            "u": user_id,
            "n": secrets.token_urlsafe(6),
        },
        salt=how.salt,
    )


def media_grant(*, kind: MediaKind, token: str) -> MediaGrant | None:
    """What a token of ``kind`` allows, or None when it is forged, altered, expired or
    another kind's."""
    how = _SIGNING[kind]
    try:
        data = signing.loads(token, salt=how.salt, max_age=settings.RECORDINGS_URL_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = data.get("u")
    return MediaGrant(
        kind=kind,
        object_id=int(data[how.key]),
        organization_id=int(data["o"]),
        user_id=int(user) if user is not None else None,
    )


def media_played(*, media: Recording | Voicemail, user: object | None) -> None:
    """Someone started playing ``media``: a ``recording.play`` or ``voicemail.play``
    audit entry (a recording's labelled with its call)."""
    kind = media_kind(media)
    audit.record(
        action=f"{kind}.play",
        organization_id=media.organization_id,
        obj=media,
        object_label=f"call {media.call_id}" if isinstance(media, Recording) else "",
        actor=audit.actor_as(user) if user is not None else None,
    )
