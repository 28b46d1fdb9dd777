"""Which cases a member may see and work on."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from contactcenter.models import Agent, Membership
from contactcenter.selectors.access import agent_for_membership, is_floor_role
from crm.models import Case


def case_visibility_q(*, membership: Membership, agent: Agent | None) -> Q:
    """Supervisors and admins: every case of the organization. Agents: their own and
    the unassigned ones (which they may pick up). ``agent`` is the member's Agent.
    """
    if is_floor_role(membership.role):
        return Q()
    visible = Q(assigned_agent__isnull=True)
    if agent is not None:
        visible |= Q(assigned_agent=agent)
    return visible


def case_list_visible(*, membership: Membership) -> QuerySet[Case]:
    agent = agent_for_membership(membership)
    cases: QuerySet[Case] = Case.objects.for_organization(membership.organization_id)
    return cases.filter(case_visibility_q(membership=membership, agent=agent))


def case_with_source_call(*, case_id: int) -> Case | None:
    """The case with the call it came from, or ``None`` once deleted."""
    return Case.objects.filter(pk=case_id).select_related("source_call").first()
