"""API keys: how a REST client (a CRM, a BI tool, a dialer) signs in without a person.

A key is ``<prefix>.<secret>``. The prefix is shown in lists, logs and the audit
trail; the secret is shown once, when the key is made or rotated, and only its
SHA-256 is stored: the secret is 256 random bits, so a fast hash cannot be worked
back by guessing (a slow password hash would cost every request tens of
milliseconds for nothing). Services: contactcenter/services/apikeys.py; the REST
authentication: contactcenter/api/apikeys_auth.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from contactcenter.enums import Role
from contactcenter.models.base import TenantModel

# The roles a key may act with: a key has no agent profile, so no agent role.
KEY_ROLES = [(Role.ADMIN.value, Role.ADMIN.label), (Role.SUPERVISOR.value, Role.SUPERVISOR.label)]


class APIKey(TenantModel):
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    # Reads as a member of this role would; writes only to ``write_resources`` (the
    # first path segment after /api/v1/: "contacts", "cases"...), none when empty.
    role = models.CharField(max_length=16, choices=KEY_ROLES, default=Role.SUPERVISOR)
    write_resources = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["organization_id", "name", "id"]
        verbose_name = "API key"
        indexes = [models.Index(fields=["organization", "revoked_at"], name="apikey_org_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
