"""Streaming a stored audio file (a recording's, a voicemail's) to a browser, with HTTP
Range: ``206 Partial Content`` with ``Content-Range`` for one range, ``416`` with
``Content-Range: bytes */size`` past the end, the whole file without ``Range``, so an
``<audio>`` element can seek. ``media_url`` issues the signed link
(contactcenter/services/media_links.py) and ``serve_media`` checks it: forged, altered,
expired or another kind's (403), issued to a person no longer of its organization
(403), naming nothing stored of that organization (404); a request from the first byte
is a playback, audited."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse

from contactcenter.models import Recording, User, Voicemail
from contactcenter.selectors.access import membership_for_user
from contactcenter.selectors.recordings import recording_for_media
from contactcenter.selectors.voicemails import voicemail_for_media
from contactcenter.services.media_links import (
    MediaGrant,
    MediaKind,
    media_grant,
    media_kind,
    media_played,
    media_token,
)
from contactcenter.services.recording_files import recordings_storage

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "gsm": "audio/x-gsm",
}


def byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of a single-range ``Range`` header; None without one (the whole
    file); False when it cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # not a form we serve (several ranges...): the whole file, as RFC 9110 allows
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


def _chunks(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        left = length
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data
    finally:
        handle.close()


def stream_stored(
    request: HttpRequest,
    *,
    storage: Storage,
    key: str,
    size: int | None,
    fmt: str,
    played: Callable[[], None],
) -> HttpResponseBase:
    """The stored file ``key`` (``size`` bytes, read from the storage when None), or the
    range the request asks; ``played()`` is called for a request from the first byte (a
    playback, which the caller audits)."""
    size = size if size is not None else storage.size(key)
    wanted = byte_range(request.headers.get("Range", ""), size)
    headers: dict[str, Any] = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    if wanted is False:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
    if start == 0:
        played()
    response = StreamingHttpResponse(
        _chunks(storage.open(key, "rb"), start, end - start + 1),
        status=206 if wanted else 200,
        content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
        headers={**headers, "Content-Length": str(max(0, end - start + 1))},
    )
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def media_url(request: HttpRequest, *, media: Recording | Voicemail) -> str:
    """The absolute signed link to ``media``'s audio for the person asking (the caller
    checked they may see it)."""
    user_id = request.user.pk if isinstance(request.user, User) else None
    token = media_token(media=media, user_id=user_id)
    return str(request.build_absolute_uri(reverse(f"{media_kind(media)}-media", args=[token])))


def _stored(grant: MediaGrant) -> Recording | Voicemail | None:
    if grant.kind == "recording":
        return recording_for_media(
            recording_id=grant.object_id, organization_id=grant.organization_id
        )
    return voicemail_for_media(voicemail_id=grant.object_id, organization_id=grant.organization_id)


def serve_media(request: HttpRequest, *, kind: MediaKind, token: str) -> HttpResponseBase:
    """The stored audio a ``kind`` link names, for the person it was issued to."""
    grant = media_grant(kind=kind, token=token)
    if grant is None:
        return HttpResponse("This link is invalid or has expired.", status=403)
    user = User.objects.filter(pk=grant.user_id).first() if grant.user_id is not None else None
    if grant.user_id is not None:
        membership = membership_for_user(user)
        if membership is None or membership.organization_id != grant.organization_id:
            return HttpResponse("This link is no longer yours to use.", status=403)
    media = _stored(grant)
    if media is None:
        return HttpResponse(f"No such {kind}.", status=404)
    return stream_stored(
        request,
        storage=recordings_storage(),
        key=media.storage_key,
        size=media.size_bytes,
        fmt=media.format,
        played=lambda: media_played(media=media, user=user),
    )
