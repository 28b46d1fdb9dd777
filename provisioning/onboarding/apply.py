"""Applying an organization file: each row through the REST API's serializer and service.

Rows are found by their natural key (the organization's slug, an agent's extension,
a queue's PBX name, a disposition's code, a category's name, a person's username);
a missing one is created, one that differs from the file is updated with the keys the
file gives, and nothing is ever deleted. So applying a file twice changes nothing the
second time, and a file may be extended and applied again.

People are invited (services/invitations.py): an e-mail with a one-time link to choose
their password, after commit. A person already a member is left as they are apart
from their role; an open invitation for the same details is left to run (an expired
one gets a new link).

The serializers are given the context of a request by the organization's admin, so
related ids are checked against that organization as they are over REST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request

from contactcenter.api.agents import AgentSerializer
from contactcenter.api.invitations import InvitationCreateSerializer
from contactcenter.api.organization import OrganizationSerializer
from contactcenter.api.queues import (
    CallDispositionSerializer,
    CallQueueSerializer,
    QueueMembershipSerializer,
)
from contactcenter.enums import InvitationStatus, Role
from contactcenter.errors import ApplicationError
from contactcenter.models import (
    Agent,
    CallDisposition,
    CallQueue,
    Invitation,
    Membership,
    Organization,
    QueueMembership,
    User,
)
from contactcenter.models.invitations import OPEN
from contactcenter.services.config import config_row_create, config_row_update
from contactcenter.services.invitations import (
    Issued,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from contactcenter.services.organizations import (
    agent_create,
    agent_update,
    member_update,
    organization_create,
    organization_update,
)
from crm.models import CaseCategory
from crm.services.categories import case_category_create
from provisioning.onboarding.schema import (
    AgentSpec,
    CategorySpec,
    OrganizationSetup,
    PersonSpec,
    secret,
)

_M = TypeVar("_M", bound=models.Model)
_T = TypeVar("_T")


class OnboardingError(Exception):
    """What in the file cannot be applied, and where (``people[dana].email: ...``)."""


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Links exist only here and in the e-mails: a caller may show them to the operator.
    invitations: list[Issued] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def admin_context(organization: Organization) -> dict[str, Any]:
    """Serializer context as for a request by ``organization``'s admin: what related
    fields may point at is that organization's rows (contactcenter.api.tenancy)."""
    request = Request(HttpRequest())
    # The membership request_membership() would look up for a signed-in admin.
    request._cc_membership = Membership(organization=organization, role=Role.ADMIN)  # type: ignore[attr-defined]
    return {"request": request}


def _messages(errors: Any, prefix: str) -> list[str]:
    if isinstance(errors, dict):
        return [m for key, value in errors.items() for m in _messages(value, f"{prefix}.{key}")]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value, prefix)]
    return [f"{prefix}: {errors}"]


def validated(
    serializer_class: type[serializers.Serializer[Any]],
    data: dict[str, Any],
    *,
    where: str,
    context: dict[str, Any],
    instance: Any = None,
) -> dict[str, Any]:
    serializer = serializer_class(
        instance, data=data, context=context, partial=instance is not None
    )
    if not serializer.is_valid():
        raise OnboardingError("; ".join(_messages(serializer.errors, where)))
    return dict(serializer.validated_data)


def through_service(where: str, call: Callable[[], _T]) -> _T:
    try:
        return call()
    except ApplicationError as exc:
        raise OnboardingError(f"{where}{'.' + exc.field if exc.field else ''}: {exc}") from exc
    except ValidationError as exc:  # a model's own validation (full_clean in the service)
        raise OnboardingError("; ".join(_messages(exc.message_dict, where))) from exc


def differences(instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if getattr(instance, key) != value}


def apply_config_row(
    model: type[_M],
    serializer_class: type[serializers.Serializer[Any]],
    *,
    org: Organization,
    lookup: dict[str, Any],
    data: dict[str, Any],
    where: str,
    context: dict[str, Any],
    report: Report,
) -> _M:
    """A plain configuration row, as ConfigViewSet writes it."""
    instance = model._default_manager.filter(organization=org, **lookup).first()
    values = validated(serializer_class, data, where=where, context=context, instance=instance)
    if instance is None:
        report.created.append(where)
        return through_service(
            where, lambda: config_row_create(model=model, organization=org, values=values)
        )
    changed = differences(instance, values)
    if not changed:
        report.unchanged.append(where)
        return instance
    report.updated.append(f"{where} ({', '.join(sorted(changed))})")
    return through_service(where, lambda: config_row_update(instance=instance, values=changed))


def _organization(setup: OrganizationSetup, report: Report) -> Organization:
    spec = setup.organization
    where = f"organization[{spec.slug}]"
    org = Organization.objects.filter(slug=spec.slug).first()
    values = spec.given(leave_out=("slug",))
    checked = validated(OrganizationSerializer, values, where=where, context={}, instance=org)
    if org is None:
        report.created.append(where)
        return through_service(where, lambda: organization_create(slug=spec.slug, **checked))
    changed = differences(org, checked)
    if not changed:
        report.unchanged.append(where)
        return org
    report.updated.append(f"{where} ({', '.join(sorted(changed))})")
    return through_service(where, lambda: organization_update(organization=org, **changed))


def _agent(org: Organization, spec: AgentSpec, context: dict[str, Any], report: Report) -> Agent:
    where = f"agents[{spec.extension}]"
    data = spec.given(leave_out=("sip_password_env",))
    try:
        password = secret(spec.sip_password, spec.sip_password_env, where=where)
    except ValueError as exc:
        raise OnboardingError(str(exc)) from exc
    if password is not None:
        data["sip_password"] = password
    agent = Agent.objects.filter(organization=org, extension=spec.extension).first()
    values = validated(AgentSerializer, data, where=where, context=context, instance=agent)
    if agent is None:
        report.created.append(where)
        return through_service(where, lambda: agent_create(organization=org, **values))
    changed = differences(agent, values)
    if not changed:
        report.unchanged.append(where)
        return agent
    report.updated.append(f"{where} ({', '.join(sorted(changed))})")
    return through_service(where, lambda: agent_update(agent=agent, **changed))


def _categories(org: Organization, specs: list[CategorySpec], report: Report) -> dict[str, int]:
    found: dict[str, int] = {}
    for spec in specs:
        parent = _category(org, spec.name, None, report)
        found[spec.name] = parent.pk
        for child in spec.children:
            found[child] = _category(org, child, parent, report).pk
    return found


def _category(
    org: Organization, name: str, parent: CaseCategory | None, report: Report
) -> CaseCategory:
    where = f"case_categories[{name}]"
    category = CaseCategory.objects.filter(organization=org, name=name, parent=parent).first()
    if category is not None:
        report.unchanged.append(where)
        return category
    report.created.append(where)
    return through_service(
        where, lambda: case_category_create(organization=org, name=name, parent=parent)
    )


def _person(
    org: Organization, spec: PersonSpec, agents: dict[str, Agent], base_url: str, report: Report
) -> None:
    where = f"people[{spec.username}]"
    agent = agents[spec.agent] if spec.agent is not None else None
    person = validated(
        InvitationCreateSerializer,
        spec.given(leave_out=("agent",)),
        where=where,
        context=admin_context(org),
    )
    user = User.objects.filter(username__iexact=spec.username).first()
    if user is not None:
        membership = Membership.objects.filter(user=user, organization=org).first()
        if membership is None:
            raise OnboardingError(f"{where}: the username is taken by someone else")
        changes = []
        if membership.role != spec.role:
            through_service(where, lambda: member_update(membership=membership, role=spec.role))
            changes.append("role")
        if agent is not None and agent.user_id != user.pk:
            if agent.user_id is not None:
                raise OnboardingError(f"{where}: agent {agent.extension} has another user")
            through_service(where, lambda: agent_update(agent=agent, user=user))
            changes.append("agent")
        if changes:
            report.updated.append(f"{where} ({', '.join(changes)})")
        else:
            report.unchanged.append(where)
        return
    wanted = {
        "email": person["email"],
        "role": person["role"],
        "first_name": person["first_name"],
        "last_name": person["last_name"],
        "agent_id": agent.pk if agent else None,
    }
    pending = (
        Invitation.objects.filter(OPEN, organization=org, username__iexact=spec.username)
        .order_by("-created_at")
        .first()
    )
    if pending is not None and not differences(pending, wanted):
        if pending.status_at(timezone.now()) == InvitationStatus.EXPIRED:
            resent = through_service(
                where, lambda: invitation_resend(invitation=pending, base_url=base_url)
            )
            report.invitations.append(resent)
            report.updated.append(f"{where} (a new invitation link: the last one expired)")
        else:
            report.unchanged.append(f"{where} (invitation pending)")
        return
    if pending is not None:  # other details now: that invitation makes way for this one
        invitation_revoke(invitation=pending)
    report.invitations.append(
        through_service(
            where,
            lambda: invitation_create(
                organization=org,
                email=person["email"],
                username=person["username"],
                role=person["role"],
                first_name=person["first_name"],
                last_name=person["last_name"],
                agent=agent,
                base_url=base_url,
            ),
        )
    )
    report.created.append(f"{where} (invited)")


def apply_setup(setup: OrganizationSetup, *, base_url: str, report: Report) -> Organization:
    """Create or complete the organization the file describes. Run inside a transaction
    (the invitation e-mails go out after it commits)."""
    org = _organization(setup, report)
    context = admin_context(org)
    categories = _categories(org, setup.case_categories, report)
    agents = {spec.extension: _agent(org, spec, context, report) for spec in setup.agents}
    for queue_spec in setup.queues:
        where = f"queues[{queue_spec.pbx_queue_name}]"
        queue = apply_config_row(
            CallQueue,
            CallQueueSerializer,
            org=org,
            lookup={"pbx_queue_name": queue_spec.pbx_queue_name},
            data=queue_spec.given(leave_out=("members",)),
            where=where,
            context=context,
            report=report,
        )
        for extension in queue_spec.members:
            apply_config_row(
                QueueMembership,
                QueueMembershipSerializer,
                org=org,
                lookup={"queue": queue, "agent": agents[extension]},
                data={"queue": queue.pk, "agent": agents[extension].pk},
                where=f"{where}.members[{extension}]",
                context=context,
                report=report,
            )
    for spec in setup.dispositions:
        data = spec.given()
        if spec.default_case_category is not None:
            data["default_case_category"] = categories[spec.default_case_category]
        apply_config_row(
            CallDisposition,
            CallDispositionSerializer,
            org=org,
            lookup={"code": spec.code},
            data=data,
            where=f"dispositions[{spec.code}]",
            context=context,
            report=report,
        )
    for person in setup.people:
        _person(org, person, agents, base_url, report)
    return org
