"""/notification-preferences/: each member's own choices, one per notification kind.

No stored choice means both channels on; only some kinds are ever e-mailed
(``email_available``), the e-mail flag of the others is kept but has no effect.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import ALL_ROLES, request_membership
from contactcenter.errors import NotFound
from contactcenter.models import Membership
from crm.api.common import validated
from crm.enums import EMAIL_NOTIFICATION_KINDS, NotificationKind
from crm.models import NotificationPreference
from crm.selectors.notifications import notification_preference_list
from crm.services.notifications import notification_preference_set


class PreferenceOutputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()
    email_available = serializers.SerializerMethodField()

    def get_label(self, preference: NotificationPreference) -> str:
        return str(NotificationKind(preference.kind).label)

    def get_email_available(self, preference: NotificationPreference) -> bool:
        return preference.kind in EMAIL_NOTIFICATION_KINDS


class PreferenceInputSerializer(serializers.Serializer[Any]):
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


def _membership(request: Request) -> Membership:
    membership = request_membership(request)
    assert membership is not None  # IsOrganizationMember refused anyone else
    return membership


class NotificationPreferenceListView(APIView):
    read_roles = ALL_ROLES

    @extend_schema(
        summary="My notification preferences, one per kind",
        responses=PreferenceOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        preferences = notification_preference_list(user_id=_membership(request).user_id)
        return Response(PreferenceOutputSerializer(preferences, many=True).data)


class NotificationPreferenceView(APIView):
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @extend_schema(
        summary="Change my preference for one kind of notification",
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=NotificationKind.values)
        ],
        request=PreferenceInputSerializer,
        responses=PreferenceOutputSerializer,
    )
    def patch(self, request: Request, kind: str) -> Response:
        if kind not in NotificationKind.values:
            raise NotFound("No such kind of notification.")
        membership = _membership(request)
        data = validated(PreferenceInputSerializer, request, {"request": request})
        preference = notification_preference_set(
            organization_id=membership.organization_id,
            user_id=membership.user_id,
            kind=kind,
            **data,
        )
        return Response(PreferenceOutputSerializer(preference).data)
