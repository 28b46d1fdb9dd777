"""Reads of calls and dispositions for what an agent acts on."""

from __future__ import annotations

from django.db.models import Q

from contactcenter.models import Agent, Call, CallDisposition, CallEvent, CallTransfer


def agent_call(*, organization_id: int, agent: Agent, call_id: int) -> Call | None:
    """The call, if it is the agent's (the REST API's rule): they are its agent, were
    transferred it, or appear in its timeline. Another organization's does not exist."""
    transferred = CallTransfer.objects.filter(Q(from_agent=agent) | Q(to_agent=agent))
    named = CallEvent.objects.filter(agent=agent)
    return (
        Call.objects.for_organization(organization_id)
        .filter(pk=call_id)
        .filter(
            Q(agent=agent)
            | Q(pk__in=transferred.values("call_id"))
            | Q(pk__in=named.values("call_id"))
        )
        .first()
    )


def disposition_for(*, organization_id: int, disposition_id: int) -> CallDisposition | None:
    """The organization's disposition of that id (active or not)."""
    scope = CallDisposition.objects.for_organization(organization_id)
    return scope.filter(pk=disposition_id).first()
