"""Voicemails over REST: list, retrieve, claim, turn into a callback or a case, close,
and the media behind a signed link.

Who sees what is the calls' and recordings' rule: agents the voicemails of the queues
they are a member of (and any they claimed), supervisors and admins their
organization's, nobody another organization's (404). A stored voicemail comes with a
link, valid ``RECORDINGS_URL_SECONDS``, to ``GET /api/v1/voicemails/media/<token>/``,
streamed with HTTP Range; a request from the first byte is a playback, audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.media import media_url, serve_media
from contactcenter.api.permissions import ALL_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from contactcenter.errors import PermissionDenied
from contactcenter.models import Agent, User, Voicemail, VoicemailMedia
from contactcenter.selectors.access import is_floor_role
from contactcenter.selectors.voicemails import voicemails_visible
from contactcenter.services.voicemails import (
    voicemail_claim,
    voicemail_close,
    voicemail_to_callback,
    voicemail_to_case,
)


class VoicemailSerializer(serializers.ModelSerializer[Voicemail]):
    queue_name = serializers.SerializerMethodField()
    claimed_by_name = serializers.SerializerMethodField()
    media_url = serializers.SerializerMethodField()

    class Meta:
        model = Voicemail
        fields = [
            "id",
            "source",
            "queue",
            "queue_name",
            "call",
            "caller_number",
            "caller_name",
            "mailbox",
            "left_at",
            "duration_seconds",
            "transcription",
            "transcription_status",
            "status",
            "claimed_by",
            "claimed_by_name",
            "claimed_at",
            "done_at",
            "callback",
            "case",
            "media",
            "format",
            "size_bytes",
            "failure",
            "media_url",
        ]
        read_only_fields = fields

    def get_queue_name(self, vm: Voicemail) -> str:
        return vm.queue.name if vm.queue is not None else ""

    def get_claimed_by_name(self, vm: Voicemail) -> str:
        return vm.claimed_by.name if vm.claimed_by is not None else ""

    def get_media_url(self, vm: Voicemail) -> str | None:
        """A signed link, only for stored audio."""
        if vm.media != VoicemailMedia.STORED or not vm.storage_key:
            return None
        return media_url(self.context["request"], media=vm)


class VoicemailCaseSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class VoicemailViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Voicemail],
):
    queryset = Voicemail.objects.select_related("queue", "claimed_by")
    serializer_class = VoicemailSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_fields = ["queue", "status", "media"]
    ordering_fields = ["left_at", "created_at"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("left_at", "pk")

    def scope_for_role(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return voicemails_visible(
            queryset, agent=self.current_agent, floor=is_floor_role(self.membership.role)
        )

    def _agent(self) -> Agent:
        agent = self.current_agent
        if agent is None:
            raise PermissionDenied("Only an agent can take a voicemail.")
        return agent

    def _acting_agent(self) -> Agent | None:
        """Who turns a voicemail into work: a supervisor or admin acts as such (None: any
        voicemail short of done); an agent must have claimed it."""
        return None if is_floor_role(self.membership.role) else self._agent()

    def _answer(self, vm: Voicemail) -> Response:
        fresh = self.get_queryset().get(pk=vm.pk)
        return Response(VoicemailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=VoicemailSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """Take the voicemail: exactly one agent wins (409 ``already_claimed`` for the
        others); claiming one's own again changes nothing."""
        return self._answer(voicemail_claim(voicemail=self.get_object(), agent=self._agent()))

    @extend_schema(request=None, responses=VoicemailSerializer)
    @action(detail=True, methods=["post"])
    def callback(self, request: Request, pk: str | None = None) -> Response:
        """Call the caller back: a callback in the voicemail's queue; the voicemail is done."""
        vm = voicemail_to_callback(voicemail=self.get_object(), agent=self._acting_agent())
        return self._answer(vm)

    @extend_schema(request=VoicemailCaseSerializer, responses=VoicemailSerializer)
    @action(detail=True, methods=["post"])
    def case(self, request: Request, pk: str | None = None) -> Response:
        """Open a case from the voicemail (its caller's contact, its transcription)."""
        data = VoicemailCaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if isinstance(request.user, User) else None
        vm = voicemail_to_case(
            voicemail=self.get_object(),
            agent=self._acting_agent(),
            user=user,
            title=data.validated_data["title"],
        )
        return self._answer(vm)

    @extend_schema(request=None, responses=VoicemailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Done with it, nothing to follow up."""
        return self._answer(
            voicemail_close(voicemail=self.get_object(), agent=self._acting_agent())
        )


@require_GET
def voicemail_media(request: HttpRequest, token: str) -> HttpResponseBase:
    """The audio of a stored voicemail, for the person its link was issued to."""
    return serve_media(request, kind="voicemail", token=token)
