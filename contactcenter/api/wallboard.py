"""The wallboard over REST: queue figures of the caller's organization, for the floor.

Definitions of every figure: docs/figures.md. The view parses ``?queue=``, calls the
selector and serializes; it computes nothing itself.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import FLOOR_ROLES, request_membership
from contactcenter.enums import AgentState
from contactcenter.selectors.wallboard import wallboard


class WallboardQuerySerializer(serializers.Serializer[Any]):
    queue = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Only this queue. An id that is not one of your organization's active "
        "queues yields an empty list, not an error.",
    )


def _count() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0)


class AgentsByStateSerializer(serializers.Serializer[Any]):
    """One count per agent state, zeros included (tests keep it in step with AgentState)."""

    offline = _count()
    available = _count()
    ringing = _count()
    on_call = _count()
    wrap_up = _count()
    paused = _count()


class QueueAgentSerializer(serializers.Serializer[Any]):
    agent_id = serializers.IntegerField()
    name = serializers.CharField()
    extension = serializers.CharField()
    state = serializers.ChoiceField(choices=AgentState.choices)
    reason = serializers.CharField(allow_blank=True)
    seconds_in_state = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="Null when the state change time is unknown."
    )
    paused_in_queue = serializers.BooleanField()


class CallMetricsSerializer(serializers.Serializer[Any]):
    callers_waiting = _count()
    callbacks_waiting = serializers.IntegerField(
        min_value=0, help_text="Callbacks not yet answered nor given up (docs/callbacks.md)."
    )
    voicemails_waiting = serializers.IntegerField(
        min_value=0, help_text="Voicemails no agent has claimed yet (docs/recordings.md)."
    )
    longest_wait_seconds = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="Null when nobody waits."
    )
    offered = _count()
    answered = _count()
    abandoned = serializers.IntegerField(min_value=0, help_text="Short abandons excluded.")
    short_abandoned = _count()
    answered_within_service_level = _count()
    service_level_percent = serializers.FloatField(
        allow_null=True,
        help_text="answered_within_service_level / (answered + abandoned) * 100, "
        "one decimal; null when the denominator is 0.",
    )
    asa_seconds = serializers.FloatField(allow_null=True)
    aht_seconds = serializers.FloatField(allow_null=True)
    abandon_rate_percent = serializers.FloatField(allow_null=True)


class QueueMetricsSerializer(CallMetricsSerializer):
    queue_id = serializers.IntegerField()
    queue_name = serializers.CharField()
    service_level_seconds = _count()
    short_abandon_seconds = _count()
    agents_by_state = AgentsByStateSerializer()
    agents = QueueAgentSerializer(many=True)


class OrganizationTotalsSerializer(CallMetricsSerializer):
    agents_by_state = AgentsByStateSerializer(
        help_text="Distinct agents logged in to at least one of the listed queues."
    )


class WallboardSerializer(serializers.Serializer[Any]):
    generated_at = serializers.DateTimeField(help_text="The instant every figure refers to.")
    time_zone = serializers.CharField(source="day.time_zone")
    day_start = serializers.DateTimeField(source="day.start", help_text="Local midnight, UTC.")
    day_end = serializers.DateTimeField(source="day.end", help_text="Next local midnight, UTC.")
    queues = QueueMetricsSerializer(many=True)
    totals = OrganizationTotalsSerializer()


class WallboardView(APIView):
    """Live and today's figures per queue. Supervisors and admins only."""

    read_roles = FLOOR_ROLES

    @extend_schema(
        parameters=[WallboardQuerySerializer],
        responses=WallboardSerializer,
    )
    def get(self, request: Request) -> Response:
        query = WallboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        membership = request_membership(request)
        assert membership is not None  # IsOrganizationMember has let only members through
        queue = query.validated_data.get("queue")
        board = wallboard(
            organization=membership.organization,
            queue_ids=None if queue is None else [queue],
        )
        return Response(WallboardSerializer(board).data)
