"""Callbacks over REST: the organization's scheduled and kept callbacks; schedule one
("call me at 15:00"); cancel one still waiting. Every role may (an agent schedules the
callbacks a customer asks of them); writes go through contactcenter.services.callbacks.

Where callbacks are offered in the console (Asterisk, services/callback_offers.py) the
agent's own offer is ``GET offer/`` (204: none), taken with ``POST {id}/accept/`` (their
phone then calls the customer) or passed on with ``POST {id}/decline/``; only the agent
it is offered to may (409 ``callback_not_offered`` otherwise).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.models import QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ALL_ROLES
from contactcenter.api.tenancy import TenantRelatedField, TenantViewSetMixin
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Callback, CallQueue
from contactcenter.selectors.callbacks import callback_offer_of
from contactcenter.services.callback_offers import callback_call, callback_offer_decline
from contactcenter.services.callbacks import callback_cancel, callback_schedule

T = TypeVar("T")


class CallbackSerializer(serializers.ModelSerializer[Callback]):
    class Meta:
        model = Callback
        fields = [
            "id",
            "queue",
            "number",
            "call",
            "place_at",
            "next_attempt_at",
            "status",
            "attempts",
            "max_attempts",
            "retry_seconds",
            "last_outcome",
            "agent",
            "offered_at",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CallbackScheduleSerializer(serializers.Serializer[Any]):
    queue = TenantRelatedField(CallQueue)
    number = serializers.CharField(max_length=32)
    at = serializers.DateTimeField(required=False, help_text="Not before this time; default now.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    max_attempts = serializers.IntegerField(min_value=1, max_value=10, default=3)
    retry_seconds = serializers.IntegerField(min_value=30, max_value=86400, default=300)


class CallbackViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Callback],
):
    queryset = Callback.objects.all()
    serializer_class = CallbackSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_fields = ["queue", "status"]
    ordering_fields = ["place_at", "next_attempt_at", "created_at"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("place_at", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Schedule a callback."""
        data = CallbackScheduleSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        callback = callback_schedule(**data.validated_data)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a callback still waiting (409 once it is dialled, answered or given up)."""
        callback = callback_cancel(callback=self.get_object())
        return Response(CallbackSerializer(callback).data)

    def _agent(self) -> Agent:
        agent = self.current_agent
        if agent is None:
            raise ApplicationError(
                "Only an agent takes callbacks.", code="not_an_agent", status=403
            )
        return agent

    @action(detail=False, methods=["get"])
    def offer(self, request: Request) -> Response:
        """The callback offered to you now (204 when none)."""
        callback = callback_offer_of(self._agent())
        if callback is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CallbackSerializer(callback).data)

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Take the callback offered to you: your phone rings, then calls the customer
        (409 ``callback_not_offered``). No PBX connected (409 ``no_pbx``) or the PBX's
        refusal (400 ``pbx_failed``): the attempt counts as failed, retried later."""
        callback = self.get_object()
        timeout = float(settings.REALTIME_PBX_TIMEOUT_SECONDS)
        placed = _run(callback_call(callback_id=callback.pk, agent=self._agent(), timeout=timeout))
        return Response(CallbackSerializer(placed).data)

    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Pass the callback offered to you on to another agent."""
        callback = self.get_object()
        declined = callback_offer_decline(callback_id=callback.pk, agent=self._agent())
        return Response(CallbackSerializer(declined).data)


def _run(awaitable: Awaitable[T]) -> T:
    async def wait() -> T:
        return await awaitable

    return async_to_sync(wait)()
