"""POST /api/v1/realtime/ticket/: a one-time ticket to open a WebSocket with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import ALL_ROLES
from realtime.tickets import ticket_issue


class TicketSerializer(serializers.Serializer[Any]):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")


class RealtimeTicketView(APIView):
    """Every member may open the sockets their role allows; the socket checks the role."""

    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @extend_schema(request=None, responses={201: TicketSerializer})
    def post(self, request: Request) -> Response:
        user_id = request.user.pk
        assert user_id is not None  # IsOrganizationMember lets only signed-in members in
        body = {
            "ticket": ticket_issue(
                user_id=user_id, auth_epoch=getattr(request.user, "auth_epoch", 0)
            ),
            "expires_in": settings.REALTIME_TICKET_SECONDS,
        }
        return Response(
            TicketSerializer(body).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )
