"""Creating tenants, their members and agents."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from contactcenter.enums import Role
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Membership, Organization, User
from contactcenter.services import audit, sessions
from contactcenter.services.sessions import user_revoke_sessions, users_revoke_sessions

# What the audit trail tells of a member's user (never the password hash).
_USER_FIELDS = ["username", "email", "first_name", "last_name", "is_active"]


@transaction.atomic
def organization_create(
    *, name: str, slug: str | None = None, time_zone: str = "UTC", default_region: str = "US"
) -> Organization:
    organization = Organization(
        name=name, slug=slug or slugify(name), time_zone=time_zone, default_region=default_region
    )
    organization.full_clean()
    organization.save()
    audit.created(organization)
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
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit.record(
        action="create",
        organization_id=organization.pk,
        obj=user,
        changes={**audit.snapshot(user, _USER_FIELDS), "role": role},
    )
    return membership


@transaction.atomic
def agent_create(
    *,
    organization: Organization,
    name: str,
    extension: str,
    interface: str = "",
    user: User | None = None,
    is_active: bool = True,
    sip_username: str = "",
    sip_password: str = "",
    sip_domain: str = "",
    sip_websocket_url: str = "",
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
        is_active=is_active,
        sip_username=sip_username,
        sip_password=sip_password,
        sip_domain=sip_domain,
        sip_websocket_url=sip_websocket_url,
    )
    agent.full_clean()
    agent.save()
    audit.created(agent)
    return agent


@transaction.atomic
def member_update(
    *, membership: Membership, role: str | None = None, is_active: bool | None = None
) -> Membership:
    """Change a member's role or switch their login off; an organization keeps an admin.
    Either ends the member's sessions, tokens and sockets (``user_revoke_sessions``)."""
    locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    before = {"role": locked.role, "is_active": locked.user.is_active}
    losing_admin = locked.role == Role.ADMIN and (
        (role is not None and role != Role.ADMIN) or is_active is False
    )
    if losing_admin:
        other_admins = (
            Membership.objects.select_for_update()
            .filter(organization_id=locked.organization_id, role=Role.ADMIN, user__is_active=True)
            .exclude(pk=locked.pk)
        )
        if not other_admins.exists():
            raise ApplicationError(
                "The organization must keep at least one active admin.",
                field="role" if role is not None else "is_active",
            )
    if role is not None and role != locked.role:
        if role not in Role.values:
            raise ApplicationError(f"Unknown role {role!r}.", field="role")
        locked.role = role
        locked.save(update_fields=["role"])
        user_revoke_sessions(user=locked.user, reason=sessions.ROLE_CHANGED)
    if is_active is not None and is_active != locked.user.is_active:
        locked.user.is_active = is_active
        locked.user.save(update_fields=["is_active"])
        if not is_active:
            user_revoke_sessions(user=locked.user, reason=sessions.DEACTIVATED)
    diff = audit.changed(before, {"role": locked.role, "is_active": locked.user.is_active})
    if diff:
        # A role change is its own action, so it can be searched for.
        audit.record(
            action="role_change" if "role" in diff else "update",
            organization_id=locked.organization_id,
            obj=locked.user,
            changes=diff,
        )
    return locked


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    time_zone: str | None = None,
    default_region: str | None = None,
    audit_retention_days: int | object | None = ...,
    recording_policy: str | None = None,
    recording_retention_days: int | object | None = ...,
    agents_see_monitoring: bool | None = None,
) -> Organization:
    """Change what is passed; ``audit_retention_days=None`` goes back to the
    installation's ``AUDIT_RETENTION_DAYS``, ``recording_retention_days=None`` keeps
    recordings until they are erased (docs/recordings.md)."""
    before = audit.snapshot(organization)
    if audit_retention_days is not ...:
        if audit_retention_days is not None and (
            not isinstance(audit_retention_days, int) or audit_retention_days < 1
        ):
            raise ApplicationError(
                "Keep audit entries for at least 1 day.", field="audit_retention_days"
            )
        organization.audit_retention_days = audit_retention_days
    if recording_retention_days is not ...:
        if recording_retention_days is not None and (
            not isinstance(recording_retention_days, int) or recording_retention_days < 1
        ):
            raise ApplicationError(
                "Keep recordings for at least 1 day.", field="recording_retention_days"
            )
        organization.recording_retention_days = recording_retention_days
    if recording_policy is not None:
        organization.recording_policy = recording_policy
    if agents_see_monitoring is not None:
        # Applies to monitoring sessions that start from now on.
        organization.agents_see_monitoring = agents_see_monitoring
    if name is not None:
        organization.name = name
    if time_zone is not None:
        organization.time_zone = time_zone
    if default_region is not None:
        organization.default_region = default_region
    organization.full_clean()
    organization.save(
        update_fields=[
            "name",
            "time_zone",
            "default_region",
            "audit_retention_days",
            "recording_policy",
            "recording_retention_days",
            "agents_see_monitoring",
        ]
    )
    audit.updated(organization, before)
    return organization


@transaction.atomic
def agent_update(
    *,
    agent: Agent,
    name: str | None = None,
    extension: str | None = None,
    interface: str | None = None,
    is_active: bool | None = None,
    user: User | object | None = ...,
    sip_username: str | None = None,
    sip_password: str | None = None,
    sip_domain: str | None = None,
    sip_websocket_url: str | None = None,
) -> Agent:
    """Change an agent's profile; a ``None`` argument leaves that field as it is.
    Deactivating it, or moving it to another user, ends the sessions of the user who
    had it (their open console belongs to a profile they no longer hold)."""
    had = (agent.user_id, agent.is_active)
    before = audit.snapshot(agent)
    if name is not None:
        agent.name = name
    if extension is not None:
        agent.extension = extension
    if interface is not None:
        agent.interface = interface
    if is_active is not None:
        agent.is_active = is_active
    softphone = {
        "sip_username": sip_username,
        "sip_password": sip_password,
        "sip_domain": sip_domain,
        "sip_websocket_url": sip_websocket_url,
    }
    for field, value in softphone.items():
        if value is not None:
            setattr(agent, field, value)
    if user is not ...:
        if user is not None:
            assert isinstance(user, User)
            membership = Membership.objects.filter(user=user).first()
            if membership is None or membership.organization_id != agent.organization_id:
                raise ApplicationError(
                    "The user is not a member of this organization.", field="user"
                )
        agent.user = user
    agent.full_clean()
    agent.save()
    audit.updated(agent, before)
    previous_user_id, was_active = had
    if previous_user_id is not None and (
        previous_user_id != agent.user_id or (was_active and not agent.is_active)
    ):
        users_revoke_sessions(user_ids=[previous_user_id], reason=sessions.AGENT_CHANGED)
    return agent
