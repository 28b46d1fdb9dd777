"""The supervisor's actions over REST: the same services as the wallboard's commands
(contactcenter/services/supervision.py, docs/supervisor.md), for supervisors and admins.

Another organization's agents, queues and calls are 404, an agent's role 403. The PBX's
answer is in ``pbx``; a refusal is the ``pbx_failed`` error with the PBX's words.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.api.permissions import FLOOR_ROLES, request_membership
from contactcenter.models import Membership
from contactcenter.ports import PbxResult
from contactcenter.selectors.supervision import floor_agent, floor_call, floor_queue
from contactcenter.services import supervision

T = TypeVar("T")


class PauseInput(serializers.Serializer[Any]):
    paused = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")


class QueueAddInput(serializers.Serializer[Any]):
    queue = serializers.IntegerField()
    penalty = serializers.IntegerField(min_value=0, max_value=1000, default=0)


class MoveInput(serializers.Serializer[Any]):
    """Where the waiting caller goes: an agent's phone or another queue, one of them."""

    agent = serializers.IntegerField(required=False)
    queue = serializers.IntegerField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("agent" in attrs) == ("queue" in attrs):
            raise serializers.ValidationError("Give agent or queue, one of them.")
        return attrs


class MonitorInput(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(choices=["listen", "whisper", "barge"])


class PbxOutcome(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    error = serializers.CharField()
    message = serializers.CharField()


class PbxAnswer(serializers.Serializer[Any]):
    pbx = PbxOutcome(allow_null=True)


def _outcome(result: PbxResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"ok": result.ok, "error": result.error, "message": result.message}


def _run(awaitable: Awaitable[T]) -> T:
    async def wait() -> T:
        return await awaitable

    return async_to_sync(wait)()


class _FloorAction(APIView):
    read_roles = FLOOR_ROLES
    write_roles = FLOOR_ROLES

    @property
    def membership(self) -> Membership:
        membership = request_membership(self.request)
        assert membership is not None  # IsOrganizationMember let only members through
        return membership

    @property
    def timeout(self) -> float:
        return float(settings.REALTIME_PBX_TIMEOUT_SECONDS)

    def _input(self, serializer: type[serializers.Serializer[Any]]) -> dict[str, Any]:
        data = serializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


class AgentPauseView(_FloorAction):
    @extend_schema(request=PauseInput, responses=PbxAnswer, summary="Pause or unpause an agent")
    def post(self, request: Request, agent_id: int) -> Response:
        data = self._input(PauseInput)
        agent = floor_agent(organization_id=self.membership.organization_id, agent_id=agent_id)
        agent, result = _run(
            supervision.supervisor_agent_pause(
                supervisor=self.membership, agent=agent, timeout=self.timeout, **data
            )
        )
        state = {"id": agent.pk, "state": agent.state, "state_reason": agent.state_reason}
        return Response({"agent": state, "pbx": _outcome(result)})


class AgentLogOutView(_FloorAction):
    @extend_schema(
        request=None,
        responses=OpenApiResponse(description="{pbx: [one answer per queue]}"),
        summary="Log an agent out of every queue",
    )
    def post(self, request: Request, agent_id: int) -> Response:
        agent = floor_agent(organization_id=self.membership.organization_id, agent_id=agent_id)
        results = _run(
            supervision.supervisor_agent_log_out(
                supervisor=self.membership, agent=agent, timeout=self.timeout
            )
        )
        return Response({"pbx": [_outcome(result) for result in results]})


class AgentQueueAddView(_FloorAction):
    @extend_schema(request=QueueAddInput, responses=PbxAnswer, summary="Add an agent to a queue")
    def post(self, request: Request, agent_id: int) -> Response:
        data = self._input(QueueAddInput)
        organization_id = self.membership.organization_id
        agent = floor_agent(organization_id=organization_id, agent_id=agent_id)
        queue = floor_queue(organization_id=organization_id, queue_id=data["queue"])
        result = _run(
            supervision.supervisor_queue_add(
                supervisor=self.membership,
                agent=agent,
                queue=queue,
                penalty=data["penalty"],
                timeout=self.timeout,
            )
        )
        return Response({"pbx": _outcome(result)})


class AgentQueueRemoveView(_FloorAction):
    @extend_schema(request=None, responses=PbxAnswer, summary="Remove an agent from a queue")
    def post(self, request: Request, agent_id: int, queue_id: int) -> Response:
        organization_id = self.membership.organization_id
        agent = floor_agent(organization_id=organization_id, agent_id=agent_id)
        queue = floor_queue(organization_id=organization_id, queue_id=queue_id)
        result = _run(
            supervision.supervisor_queue_remove(
                supervisor=self.membership, agent=agent, queue=queue, timeout=self.timeout
            )
        )
        return Response({"pbx": _outcome(result)})


class CallHangUpView(_FloorAction):
    @extend_schema(request=None, responses=PbxAnswer, summary="Hang up a (stuck) call")
    def post(self, request: Request, call_id: int) -> Response:
        call = floor_call(organization_id=self.membership.organization_id, call_id=call_id)
        result = _run(
            supervision.supervisor_call_hang_up(
                supervisor=self.membership, call=call, timeout=self.timeout
            )
        )
        return Response({"pbx": _outcome(result)})


class CallMonitorView(_FloorAction):
    @extend_schema(
        request=MonitorInput, responses=PbxAnswer, summary="Listen, whisper or barge on a call"
    )
    def post(self, request: Request, call_id: int) -> Response:
        data = self._input(MonitorInput)
        call = floor_call(organization_id=self.membership.organization_id, call_id=call_id)
        result = _run(
            supervision.supervisor_monitor(
                supervisor=self.membership, call=call, mode=data["mode"], timeout=self.timeout
            )
        )
        return Response({"pbx": _outcome(result), "session": (result.data or {}).get("session")})


class CallMonitorStopView(_FloorAction):
    @extend_schema(request=None, responses=PbxAnswer, summary="Hang up your monitoring call")
    def post(self, request: Request, call_id: int) -> Response:
        call = floor_call(organization_id=self.membership.organization_id, call_id=call_id)
        result = _run(
            supervision.supervisor_monitor_stop(
                supervisor=self.membership, call=call, timeout=self.timeout
            )
        )
        return Response({"pbx": _outcome(result)})


class CallMoveView(_FloorAction):
    @extend_schema(
        request=MoveInput,
        responses=PbxAnswer,
        summary="Move a waiting caller to an agent or another queue",
    )
    def post(self, request: Request, call_id: int) -> Response:
        data = self._input(MoveInput)
        organization_id = self.membership.organization_id
        call = floor_call(organization_id=organization_id, call_id=call_id)
        if "queue" in data:
            queue = floor_queue(organization_id=organization_id, queue_id=data["queue"])
            result = _run(
                supervision.supervisor_call_move_to_queue(
                    supervisor=self.membership, call=call, queue=queue, timeout=self.timeout
                )
            )
            return Response({"pbx": _outcome(result)})
        agent = floor_agent(organization_id=organization_id, agent_id=data["agent"])
        result = _run(
            supervision.supervisor_call_move(
                supervisor=self.membership, call=call, agent=agent, timeout=self.timeout
            )
        )
        return Response({"pbx": _outcome(result)})
