"""Reads of callbacks for the screens: the one offered to an agent now."""

from __future__ import annotations

from contactcenter.models import Agent, Callback, CallbackStatus


def callback_offer_of(agent: Agent) -> Callback | None:
    """The callback offered to ``agent`` now, if any (what their console shows)."""
    return (
        Callback.objects.for_organization(agent.organization_id)
        .filter(status=CallbackStatus.OFFERED, agent=agent)
        .select_related("queue")
        .first()
    )
