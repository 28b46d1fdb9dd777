"""Invitations: how a person gets into an organization without anyone typing their password.

An admin (or the ``onboard`` command) names the person: e-mail, username, role and,
for someone who takes calls, the agent profile they will use. The person gets a link
with a one-time token; following it they choose their password, and only then do
their user and membership exist. The token is never stored: only its SHA-256, so a
copy of the database (or a backup, or the admin's screen) opens no account.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from contactcenter.enums import InvitationStatus, Role
from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel

# Neither accepted nor revoked: the invitation may still be used (unless it expired).
OPEN = Q(accepted_at__isnull=True, revoked_at__isnull=True)


def token_hash(token: str) -> str:
    """How a link's token is stored and looked up: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Invitation(TenantModel):
    email = models.EmailField()
    username = models.CharField(max_length=150)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    # The agent profile the person will take calls as (linked to their user on accept).
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last e-mail with a link: when it went out, or why it did not.
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=500, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per person per organization, and per username anywhere
            # (usernames are global): a second invite replaces the first, never races it.
            models.UniqueConstraint(
                "organization", Lower("email"), condition=OPEN, name="invitation_open_email"
            ),
            models.UniqueConstraint(
                Lower("username"), condition=OPEN, name="invitation_open_username"
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    def status_at(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
