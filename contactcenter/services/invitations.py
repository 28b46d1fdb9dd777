"""Inviting people into an organization: a one-time link by e-mail to choose a password.

* The token is 256 random bits (``secrets``), sent once in the link and stored only as
  its SHA-256: the link cannot be guessed, and the database cannot give it back.
* It works once (accepting marks the invitation under a row lock), until it expires
  (``INVITATION_MAX_AGE_HOURS``), and not after the admin revoked it. Sending it again
  issues a new token: the old link stops working.
* Accepting creates the user and their membership with the invited role, and gives
  them the agent profile they were invited for if it is still free. Nothing exists for
  the person before that: an invitation nobody accepts leaves no account behind.
* The e-mail goes out after commit; whether it went, or why not, is kept on the row
  (``sent_at``, ``send_error``) for the admin to see and to send again.

Guessing links is also limited per client address with the sign-in limits (the accept
page: realtime/invitations.py).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contactcenter.enums import InvitationStatus, Role
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Invitation, Organization, User
from contactcenter.models.invitations import OPEN, token_hash
from contactcenter.services import audit
from contactcenter.services.organizations import agent_update, member_create

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32


class InvitationUnusable(ApplicationError):
    """The link was used, revoked or expired (``status``), or never existed."""

    def __init__(self, status: str) -> None:
        super().__init__(UNUSABLE_MESSAGES[status], code=f"invitation_{status}", status=410)
        self.invitation_status = status


UNUSABLE_MESSAGES = {
    "unknown": "This invitation link is not valid. Check that you copied all of it.",
    InvitationStatus.ACCEPTED: "This invitation was already used. Sign in with your password.",
    InvitationStatus.REVOKED: "This invitation was withdrawn. Ask your administrator.",
    InvitationStatus.EXPIRED: "This invitation has expired. Ask your administrator for a new one.",
}


@dataclass(frozen=True)
class Issued:
    """An invitation and its link. The link holds the token: it exists only here (and in
    the e-mail), so whoever gets this object may hand it on or must drop it."""

    invitation: Invitation
    link: str


def _issue(invitation: Invitation, base_url: str) -> str:
    """A new token for ``invitation`` (not saved); returns the link."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(hours=settings.INVITATION_MAX_AGE_HOURS)
    base = (settings.PUBLIC_URL or base_url).rstrip("/")
    if not base:
        raise ApplicationError(
            "No address for the link: set PUBLIC_URL (e.g. https://cc.example.com).",
            code="no_public_url",
        )
    return base + reverse("realtime:invite", kwargs={"token": token})


def _check_person(
    *, organization: Organization, username: str, role: str, agent: Agent | None
) -> None:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError("A user with that username already exists.", field="username")
    if Invitation.objects.filter(OPEN, username__iexact=username).exists():
        raise ApplicationError(
            "That username is already offered in another invitation.", field="username"
        )
    if agent is not None:
        if agent.organization_id != organization.pk:
            raise ApplicationError("No such agent in this organization.", field="agent")
        if agent.user_id is not None:
            raise ApplicationError("This agent profile already has a user.", field="agent")


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    agent: Agent | None = None,
    invited_by: User | None = None,
    base_url: str = "",
) -> Issued:
    """Invite a person; an open invitation to the same address is replaced (revoked).

    ``base_url`` (scheme and host) starts the link unless ``PUBLIC_URL`` is set. After
    commit: the e-mail with the link (its outcome on ``sent_at`` / ``send_error``).
    """
    now = timezone.now()
    replaced = Invitation.objects.filter(OPEN, organization=organization, email__iexact=email)
    audit.record_many(
        [
            audit.Entry(
                action="revoke",
                organization_id=organization.pk,
                object_type="contactcenter.invitation",
                object_id=pk,
                details={"replaced": True},
            )
            for pk in replaced.values_list("pk", flat=True)
        ]
    )
    replaced.update(revoked_at=now)
    _check_person(organization=organization, username=username, role=role, agent=agent)
    invitation = Invitation(
        organization=organization,
        email=email,
        username=username,
        first_name=first_name,
        last_name=last_name,
        role=role,
        agent=agent,
        invited_by=invited_by,
    )
    link = _issue(invitation, base_url)
    invitation.full_clean(exclude=["token_hash"])
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:  # a concurrent invitation of the same person or username
        raise ApplicationError(
            "This conflicts with another invitation.", code="conflict", status=409
        ) from exc
    logger.info(
        "invitation %s: %s invited as %s to organization %s by user %s",
        invitation.pk,
        username,
        role,
        organization.pk,
        invited_by.pk if invited_by else "-",
    )
    audit.created(
        invitation,
        fields=["email", "username", "first_name", "last_name", "role", "agent", "expires_at"],
    )
    _send_after_commit(invitation, link)
    return Issued(invitation=invitation, link=link)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, base_url: str = "") -> Issued:
    """A new link (and expiry) for a pending or expired invitation, sent again; the old
    link stops working."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = locked.status_at(timezone.now())
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise ApplicationError(
            f"This invitation is {status}: invite the person again.", code=status, status=409
        )
    link = _issue(locked, base_url)
    locked.sent_at, locked.send_error = None, ""
    locked.save(update_fields=["token_hash", "expires_at", "sent_at", "send_error"])
    logger.info("invitation %s: a new link was issued", locked.pk)
    audit.record(
        action="resend",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"expires_at": [None, locked.expires_at]},
    )
    _send_after_commit(locked, link)
    return Issued(invitation=locked, link=link)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation: its link stops working. An accepted one stays accepted
    (the member is managed as any other)."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise ApplicationError(
            "This invitation was accepted; change or deactivate the member instead.",
            code="accepted",
            status=409,
        )
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        logger.info("invitation %s: revoked", locked.pk)
        audit.record(action="revoke", organization_id=locked.organization_id, obj=locked)
    return locked


def invitation_usable(invitation: Invitation | None) -> Invitation:
    """``invitation`` if its link may be used now; else InvitationUnusable."""
    if invitation is None:
        raise InvitationUnusable("unknown")
    status = invitation.status_at(timezone.now())
    if status != InvitationStatus.PENDING:
        raise InvitationUnusable(status)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Use the link: the person's user (with ``password``, already validated by the
    caller against the password rules) and membership, and their agent profile.
    Raises InvitationUnusable when the link cannot be used (any more)."""
    found = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    invitation = invitation_usable(found)
    try:
        with transaction.atomic():
            membership = member_create(
                organization=invitation.organization,
                username=invitation.username,
                password=password,
                role=invitation.role,
                email=invitation.email,
                first_name=invitation.first_name,
                last_name=invitation.last_name,
            )
    except (ApplicationError, IntegrityError) as exc:
        raise ApplicationError(
            "Your username was taken meanwhile. Ask your administrator for a new invitation.",
            code="username_taken",
            status=409,
        ) from exc
    user = membership.user
    agent = invitation.agent
    if agent is not None:
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.user_id is None and agent.is_active:
            agent_update(agent=agent, user=user)
        else:  # given to someone else since: the admin links this member by hand
            logger.warning("invitation %s: agent %s was no longer free", invitation.pk, agent.pk)
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    audit.record(
        action="accept",
        organization_id=invitation.organization_id,
        obj=invitation,
        changes={"user": [None, user.pk]},
        actor=audit.actor_as(user),
    )
    logger.info(
        "invitation %s: accepted, user %s joined organization %s as %s",
        invitation.pk,
        user.pk,
        invitation.organization_id,
        invitation.role,
    )
    return user


def _send_after_commit(invitation: Invitation, link: str) -> None:
    # A lambda, not a partial: Django names the callback (__qualname__) when it fails.
    transaction.on_commit(lambda: invitation_send(invitation_id=invitation.pk, link=link))


def _message(invitation: Invitation, link: str) -> tuple[str, str]:
    org = invitation.organization
    zone = ZoneInfo(org.time_zone)
    until = timezone.localtime(invitation.expires_at, zone).strftime("%Y-%m-%d %H:%M %Z")
    inviter = invitation.invited_by
    who = (inviter.get_full_name() or inviter.username) if inviter else "An administrator"
    greeting = invitation.first_name or invitation.username
    body = (
        f"Hello {greeting},\n\n"
        f"{who} invited you to {org.name}'s contact center as {invitation.get_role_display()}"
        f" (username: {invitation.username}).\n\n"
        f"Choose your password here:\n\n  {link}\n\n"
        f"The link works once, until {until}. If you did not expect this e-mail, "
        "ignore it: nothing is created until the link is used.\n"
    )
    return f"Your invitation to {org.name}", body


def invitation_send(*, invitation_id: int, link: str) -> bool:
    """Send the link (``link`` holds the token, which is not stored). Records the outcome
    on the row; returns whether it went. Called after commit."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        return False
    subject, body = _message(invitation, link)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        Invitation.objects.filter(pk=invitation_id).update(sent_at=None, send_error=error)
        logger.warning("invitation %s: e-mail not sent: %s", invitation_id, error)
        audit.record(
            action="send_failed",
            organization_id=invitation.organization_id,
            obj=invitation,
            details={"error": error},
        )
        return False
    Invitation.objects.filter(pk=invitation_id).update(sent_at=timezone.now(), send_error="")
    audit.record(action="send", organization_id=invitation.organization_id, obj=invitation)
    return True
