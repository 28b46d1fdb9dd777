"""Reads behind what the screens show when they open (realtime.screens.snapshot), the
agent's queues the published changes name, and the queue feed's organization."""

from __future__ import annotations

from django.db.models import QuerySet

from contactcenter.models import Agent, CallDisposition, CallQueue, Organization, QueueMembership


def agent_fresh(*, agent_id: int) -> Agent:
    """The agent as stored now (their state may have moved since the socket opened)."""
    return Agent.objects.get(pk=agent_id)


def agent_queue_ids(*, organization_id: int, agent_id: int) -> list[int]:
    """The queues the agent is a member of, in id order."""
    rows = QueueMembership.objects.for_organization(organization_id).filter(agent_id=agent_id)
    return sorted(set(rows.values_list("queue_id", flat=True)))


def disposition_choices(*, organization_id: int) -> QuerySet[CallDisposition]:
    """The organization's active dispositions, by name."""
    scope = CallDisposition.objects.for_organization(organization_id)
    return scope.filter(is_active=True).order_by("name", "id")


def active_queue_exists(*, organization_id: int, queue_id: int) -> bool:
    """Another organization's queue does not exist, exactly as an id never used."""
    queues = CallQueue.objects.for_organization(organization_id)
    return bool(queues.filter(pk=queue_id, is_active=True).exists())


def organization_by_id(*, organization_id: int) -> Organization:
    return Organization.objects.get(pk=organization_id)


def queue_ids_of(*, organization_id: int) -> list[int]:
    """Every queue of the organization, active or not."""
    return list(CallQueue.objects.for_organization(organization_id).values_list("pk", flat=True))
