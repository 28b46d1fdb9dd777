"""Plain builders for test data, going through the services where one exists."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from contactcenter.enums import CallDirection, CallSource, CallStatus, Role
from contactcenter.models import Agent, Call, CallQueue, Membership, Organization
from contactcenter.services.organizations import agent_create, member_create, organization_create

_seq = itertools.count(1)
PASSWORD = "test-pass-9f3k2"


def make_org(name: str | None = None, **kwargs: object) -> Organization:
    n = next(_seq)
    return organization_create(name=name or f"Org {n}", slug=f"org-{n}", **kwargs)  # type: ignore[arg-type]


def make_member(
    org: Organization, role: str = Role.AGENT, username: str | None = None
) -> Membership:
    n = next(_seq)
    return member_create(
        organization=org, username=username or f"{role}{n}", password=PASSWORD, role=role
    )


def make_agent(
    org: Organization, membership: Membership | None = None, extension: str | None = None
) -> Agent:
    ext = extension or str(1000 + next(_seq))
    return agent_create(
        organization=org,
        name=f"Agent {ext}",
        extension=ext,
        user=membership.user if membership else None,
    )


def make_queue(org: Organization, name: str = "support") -> CallQueue:
    return CallQueue.objects.create(organization=org, name=name.title(), pbx_queue_name=name)


def make_call(
    org: Organization,
    *,
    agent: Agent | None = None,
    queue: CallQueue | None = None,
    status: str = CallStatus.COMPLETED,
    started_at: datetime | None = None,
    caller_number: str = "+15557654321",
) -> Call:
    return Call.objects.create(
        organization=org,
        source=CallSource.ASTERISK,
        external_id=f"17419{next(_seq):05d}.1",
        direction=CallDirection.INBOUND,
        status=status,
        caller_number=caller_number,
        callee_number="+15551230000",
        agent=agent,
        queue=queue,
        started_at=started_at or timezone.now(),
    )
