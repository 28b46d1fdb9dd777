"""Recordings over HTTP: a call's list (with signed playback links), and the media.

The list is read through the call (``GET /api/v1/calls/{id}/recordings/``), so it is
authorized as the call is: agents their own calls, supervisors and admins their
organization's, nobody another organization's. Each stored recording comes with a
link, valid ``RECORDINGS_URL_SECONDS``, to ``GET /api/v1/recordings/media/<token>/``,
which streams the file with HTTP Range (206, and 416 past the end) so a browser can
seek. A request from the first byte is a playback, and is audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework import serializers

from contactcenter.models import Recording, User
from contactcenter.selectors.access import membership_for_user
from contactcenter.selectors.recordings import recording_for_media
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.recording_playback import (
    recording_media_grant,
    recording_media_token,
    recording_played,
)

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "gsm": "audio/x-gsm",
}


class RecordingSerializer(serializers.ModelSerializer[Recording]):
    agent_name = serializers.SerializerMethodField()
    media_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "status",
            "agent",
            "agent_name",
            "started_at",
            "ended_at",
            "duration_seconds",
            "format",
            "size_bytes",
            "paused_spans",
            "failure",
            "media_url",
        ]
        read_only_fields = fields

    def get_agent_name(self, rec: Recording) -> str:
        return rec.agent.name if rec.agent is not None else ""

    def get_media_url(self, rec: Recording) -> str | None:
        """A signed link, only for a stored file (``done``)."""
        if rec.status != "done" or not rec.storage_key:
            return None
        request = self.context["request"]
        user_id = request.user.pk if isinstance(request.user, User) else None
        token = recording_media_token(recording=rec, user_id=user_id)
        return str(request.build_absolute_uri(reverse("recording-media", args=[token])))


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
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


@require_GET
def recording_media(request: HttpRequest, token: str) -> HttpResponseBase:
    """The file of a stored recording, for the person its link was issued to."""
    grant = recording_media_grant(token=token)
    if grant is None:
        return HttpResponse("This link is invalid or has expired.", status=403)
    user = User.objects.filter(pk=grant.user_id).first() if grant.user_id is not None else None
    if grant.user_id is not None:
        membership = membership_for_user(user)
        if membership is None or membership.organization_id != grant.organization_id:
            return HttpResponse("This link is no longer yours to use.", status=403)
    rec = recording_for_media(
        recording_id=grant.recording_id, organization_id=grant.organization_id
    )
    if rec is None:
        return HttpResponse("No such recording.", status=404)
    storage = recordings_storage()
    size = rec.size_bytes if rec.size_bytes is not None else storage.size(rec.storage_key)
    wanted = _byte_range(request.headers.get("Range", ""), size)
    headers: dict[str, Any] = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    if wanted is False:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
    if start == 0:
        recording_played(recording=rec, user=user)
    response = StreamingHttpResponse(
        _chunks(storage.open(rec.storage_key, "rb"), start, end - start + 1),
        status=206 if wanted else 200,
        content_type=CONTENT_TYPES.get(rec.format, "application/octet-stream"),
        headers={**headers, "Content-Length": str(max(0, end - start + 1))},
    )
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
