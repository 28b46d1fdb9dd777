"""Creating tenants, their members and agents."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from contactcenter.enums import Role
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Membership, Organization, User


@transaction.atomic
def organization_create(
    *, name: str, slug: str | None = None, time_zone: str = "UTC", default_region: str = "US"
) -> Organization:
    organization = Organization(
        name=name, slug=slug or slugify(name), time_zone=time_zone, default_region=default_region
    )
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create a user and their membership of ``organization`` in one step."""
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", field="role")
    if User.objects.filter(username=username).exists():
        raise ApplicationError("A user with that username already exists.", field="username")
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return Membership.objects.create(user=user, organization=organization, role=role)


@transaction.atomic
def agent_create(
    *,
    organization: Organization,
    name: str,
    extension: str,
    interface: str = "",
    user: User | None = None,
) -> Agent:
    if user is not None:
        membership = Membership.objects.filter(user=user).first()
        if membership is None or membership.organization_id != organization.pk:
            raise ApplicationError("The user is not a member of this organization.", field="user")
    agent = Agent(
        organization=organization,
        user=user,
        name=name,
        extension=extension,
        interface=interface or f"PJSIP/{extension}",
    )
    agent.full_clean()
    agent.save()
    return agent
