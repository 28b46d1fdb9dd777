"""Recordings over HTTP: a call's list (with signed playback links), and the media.

The list is read through the call (``GET /api/v1/calls/{id}/recordings/``), so it is
authorized as the call is: agents their own calls, supervisors and admins their
organization's, nobody another organization's. Each stored recording comes with a
link, valid ``RECORDINGS_URL_SECONDS``, to ``GET /api/v1/recordings/media/<token>/``,
which streams the file with HTTP Range (206, and 416 past the end) so a browser can
seek. A request from the first byte is a playback, and is audited.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework import serializers

from contactcenter.api.media import stream_stored
from contactcenter.models import Recording, User
from contactcenter.selectors.access import membership_for_user
from contactcenter.selectors.recordings import recording_for_media
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.recording_playback import (
    recording_media_grant,
    recording_media_token,
    recording_played,
)


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
    return stream_stored(
        request,
        storage=recordings_storage(),
        key=rec.storage_key,
        size=rec.size_bytes,
        fmt=rec.format,
        played=lambda: recording_played(recording=rec, user=user),
    )
