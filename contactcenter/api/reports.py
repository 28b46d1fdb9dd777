"""Reports over REST: per queue and per agent, per local day, with range totals.

Supervisors and admins only. The views check the query, call one selector and
serialize; every figure is defined in docs/figures.md ("Reports"), the contract in
docs/reports.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import FLOOR_ROLES, request_membership
from contactcenter.enums import AgentState
from contactcenter.models import Agent, CallQueue, Membership
from contactcenter.selectors.reports import Report, agent_report, queue_report
from contactcenter.selectors.reports_figures import AgentFigures, QueueFigures


class RangeQuerySerializer(serializers.Serializer[Any]):
    """``from`` and ``to`` (local calendar dates, both included); ``from`` is a keyword
    in Python, hence the fields are built in ``get_fields``."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": serializers.DateField(
                input_formats=["iso-8601"],
                help_text="First day, YYYY-MM-DD, in the organization's time zone.",
            ),
            "to": serializers.DateField(
                input_formats=["iso-8601"],
                help_text="Last day (included), YYYY-MM-DD; not after today.",
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs["from"], attrs["to"]
        if first > last:
            raise serializers.ValidationError({"to": "Must be on or after 'from'."})
        today = _today(self.context["membership"])
        if last > today:
            raise serializers.ValidationError(
                {
                    "to": f"Must not be after today ({today.isoformat()} in the organization's "
                    "time zone)."
                }
            )
        longest = settings.REPORTS_MAX_DAYS
        if (last - first).days + 1 > longest:
            raise serializers.ValidationError(
                {"to": f"A report covers at most {longest} days; ask for a shorter range."}
            )
        return attrs


def _today(membership: Membership) -> date:
    return timezone.now().astimezone(ZoneInfo(membership.organization.time_zone)).date()


class QueueReportQuerySerializer(RangeQuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            **super().get_fields(),
            "queue": serializers.IntegerField(
                required=False, min_value=1, help_text="Only this queue (an id of yours)."
            ),
        }

    def validate_queue(self, value: int) -> int:
        organization_id = self.context["membership"].organization_id
        if not CallQueue.objects.for_organization(organization_id).filter(pk=value).exists():
            raise serializers.ValidationError(f'Invalid pk "{value}" - object does not exist.')
        return value


class AgentReportQuerySerializer(RangeQuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            **super().get_fields(),
            "agent": serializers.IntegerField(
                required=False, min_value=1, help_text="Only this agent (an id of yours)."
            ),
        }

    def validate_agent(self, value: int) -> int:
        organization_id = self.context["membership"].organization_id
        if not Agent.objects.for_organization(organization_id).filter(pk=value).exists():
            raise serializers.ValidationError(f'Invalid pk "{value}" - object does not exist.')
        return value


def _count() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0)


def _ratio(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class QueueFiguresSerializer(serializers.Serializer[QueueFigures]):
    offered = _count()
    answered = _count()
    abandoned = serializers.IntegerField(min_value=0, help_text="Short abandons excluded.")
    short_abandoned = _count()
    answered_within_service_level = _count()
    service_level_percent = _ratio(
        "answered_within_service_level / (answered + abandoned) * 100; null when 0/0."
    )
    asa_seconds = _ratio("Average wait of the answered calls with a known wait.")
    aht_seconds = _ratio("Average talk time (hold included) of the completed calls.")
    abandon_rate_percent = _ratio("abandoned / (answered + abandoned) * 100; null when 0/0.")
    callbacks_requested = serializers.IntegerField(
        min_value=0,
        help_text="Callbacks asked for that day (a waiting caller's key, or scheduled). "
        "The callers who asked are offered, neither answered nor abandoned.",
    )
    callbacks_answered = serializers.IntegerField(
        min_value=0, help_text="Of callbacks_requested, those answered by now."
    )
    callbacks_given_up = serializers.IntegerField(
        min_value=0, help_text="Of callbacks_requested, those given up (every attempt failed)."
    )


class StateSecondsSerializer(serializers.Serializer[Any]):
    """Whole seconds in each agent state, zeros included."""

    offline = _count()
    available = _count()
    ringing = _count()
    on_call = _count()
    wrap_up = _count()
    paused = _count()

    def to_representation(self, instance: Any) -> dict[str, int]:
        return {state.value: int(instance.get(state.value, 0)) for state in AgentState}


class AgentFiguresSerializer(serializers.Serializer[AgentFigures]):
    answered = serializers.IntegerField(min_value=0, help_text="Calls the agent answered.")
    talk_count = serializers.IntegerField(
        min_value=0, help_text="Of those, completed with a known talk time (AHT's divisor)."
    )
    talk_seconds = serializers.IntegerField(source="talk_seconds_sum", min_value=0)
    hold_seconds = serializers.IntegerField(source="hold_seconds_sum", min_value=0)
    aht_seconds = _ratio("talk_seconds / talk_count; null when no call completed.")
    state_seconds = StateSecondsSerializer()


class QueueDaySerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    # A field named like Field.source: fine for DRF (declared fields are collected by
    # the metaclass), but the stubs see the attribute.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="rollup: the day's final roll-up; live: computed from the records now."
    )
    figures = QueueFiguresSerializer()


class AgentDaySerializer(QueueDaySerializer):
    figures = AgentFiguresSerializer()  # type: ignore[assignment]


class QueueRowSerializer(serializers.Serializer[Any]):
    queue_id = serializers.IntegerField(source="id")
    queue_name = serializers.CharField(source="name")
    days = QueueDaySerializer(many=True)
    totals = QueueFiguresSerializer()


class AgentRowSerializer(serializers.Serializer[Any]):
    agent_id = serializers.IntegerField(source="id")
    name = serializers.CharField()
    extension = serializers.CharField()
    days = AgentDaySerializer(many=True)
    totals = AgentFiguresSerializer()


class _ReportSerializer(serializers.Serializer[Report[Any]]):
    time_zone = serializers.CharField(help_text="The organization's zone; days are local.")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    generated_at = serializers.DateTimeField()


class QueueReportSerializer(_ReportSerializer):
    queues = QueueRowSerializer(many=True, source="rows")
    totals = QueueFiguresSerializer(help_text="All listed queues over the whole range.")


class AgentReportSerializer(_ReportSerializer):
    agents = AgentRowSerializer(many=True, source="rows")
    totals = AgentFiguresSerializer(help_text="All listed agents over the whole range.")


def _query(request: Request, serializer_class: type[RangeQuerySerializer]) -> tuple[Any, Any]:
    membership = request_membership(request)
    assert membership is not None  # IsOrganizationMember has let only members through
    query = serializer_class(data=request.query_params, context={"membership": membership})
    query.is_valid(raise_exception=True)
    return membership, query.validated_data


class QueueReportView(APIView):
    """Per queue and local day: offered, answered, abandoned, service level, ASA, AHT."""

    read_roles = FLOOR_ROLES

    @extend_schema(parameters=[QueueReportQuerySerializer], responses=QueueReportSerializer)
    def get(self, request: Request) -> Response:
        membership, data = _query(request, QueueReportQuerySerializer)
        report = queue_report(
            organization=membership.organization,
            date_from=data["from"],
            date_to=data["to"],
            queue_id=data.get("queue"),
        )
        return Response(QueueReportSerializer(report).data)


class AgentReportView(APIView):
    """Per agent and local day: answered calls, talk and hold time, time in each state."""

    read_roles = FLOOR_ROLES

    @extend_schema(parameters=[AgentReportQuerySerializer], responses=AgentReportSerializer)
    def get(self, request: Request) -> Response:
        membership, data = _query(request, AgentReportQuerySerializer)
        report = agent_report(
            organization=membership.organization,
            date_from=data["from"],
            date_to=data["to"],
            agent_id=data.get("agent"),
        )
        return Response(AgentReportSerializer(report).data)
