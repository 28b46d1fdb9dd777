"""Due dates from the organization's SLA policy (business hours, response times)."""

from __future__ import annotations

import datetime as dt

from contactcenter.models import Organization
from crm.models import CaseSlaPolicy
from crm.sla import BusinessHours, business_deadline, parse_business_days, parse_holidays


def case_sla_policy_get(*, organization_id: int) -> CaseSlaPolicy:
    """The organization's policy; an unsaved one with the defaults when it has none."""
    policy = CaseSlaPolicy.objects.for_organization(organization_id).first()
    return policy or CaseSlaPolicy(organization_id=organization_id)


def business_hours_of(*, organization: Organization, policy: CaseSlaPolicy) -> BusinessHours:
    return BusinessHours(
        time_zone=organization.time_zone,
        business_days=parse_business_days(policy.business_days),
        day_start=policy.day_start,
        day_end=policy.day_end,
        holidays=parse_holidays(policy.holidays),
    )


def case_due_at(*, organization: Organization, priority: str, start: dt.datetime) -> dt.datetime:
    """When a case of ``priority`` opened at ``start`` must have been answered."""
    policy = case_sla_policy_get(organization_id=organization.pk)
    hours = business_hours_of(organization=organization, policy=policy)
    return business_deadline(start, policy.response_minutes(priority), hours)


def follow_up_due_at(*, organization: Organization, start: dt.datetime) -> dt.datetime:
    policy = case_sla_policy_get(organization_id=organization.pk)
    hours = business_hours_of(organization=organization, policy=policy)
    return business_deadline(start, policy.follow_up_minutes, hours)
