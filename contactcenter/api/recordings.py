"""Recordings over HTTP: a call's list (with signed playback links), and the media.

The list is read through the call (``GET /api/v1/calls/{id}/recordings/``), so it is
authorized as the call is: agents their own calls, supervisors and admins their
organization's, nobody another organization's. Each stored recording comes with a
link, valid ``RECORDINGS_URL_SECONDS``, to ``GET /api/v1/recordings/media/<token>/``,
which streams the file with HTTP Range (206, and 416 past the end) so a browser can
seek. A request from the first byte is a playback, and is audited.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from rest_framework import serializers

from contactcenter.api.media import media_url, serve_media
from contactcenter.models import Recording


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
        return media_url(self.context["request"], media=rec)


@require_GET
def recording_media(request: HttpRequest, token: str) -> HttpResponseBase:
    """The file of a stored recording, for the person its link was issued to."""
    return serve_media(request, kind="recording", token=token)
