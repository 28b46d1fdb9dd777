"""``POST /api/v1/telephony/twilio/token/``: a Twilio Voice token for the caller's console.

Any role may ask, but only for themself and only with an active agent profile; the
token is scoped to that agent's identity (``telephony.twilio.token``). Never cached.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import ALL_ROLES, request_membership
from contactcenter.errors import ApplicationError
from contactcenter.selectors.access import agent_for_membership
from telephony.twilio.token import twilio_voice_token_create


class VoiceTokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    identity = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TwilioVoiceTokenView(APIView):
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @extend_schema(request=None, responses=VoiceTokenSerializer)
    def post(self, request: Request) -> Response:
        membership = request_membership(request)
        assert membership is not None  # IsOrganizationMember has let only members through
        agent = agent_for_membership(membership)
        if agent is None:
            raise ApplicationError(
                "Only agents have a softphone: you have no agent profile.",
                code="permission_denied",
                status=403,
            )
        voice = twilio_voice_token_create(agent=agent)
        body = VoiceTokenSerializer(
            {"token": voice.token, "identity": voice.identity, "expires_at": voice.expires_at}
        ).data
        return Response(body, headers={"Cache-Control": "no-store"})
