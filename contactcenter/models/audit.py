"""The audit trail: one row per write, sign-in, key use or export (services/audit.py).

Entries are never changed or deleted through the product: there is no update or
delete path in the API or the admin, and on PostgreSQL a trigger refuses UPDATE and
DELETE on the table unless the retention purge (``audit_purge``) says it is the one
deleting, for its own transaction. Nothing here points at another row with a
database constraint, so deleting a user, a contact or an organization never touches
(or is blocked by) the entries that tell of it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contactcenter.models.base import TenantQuerySet


class ActorKind(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    PBX = "pbx", "PBX"
    JOB = "job", "Scheduled job"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class AuditEntry(models.Model):
    """Who did what to which object of which organization, when, from where.

    ``changes`` maps a field to ``[before, after]`` (a redacted value reads
    ``"[redacted]"``); ``details`` holds what else the action needs said (a sign-in's
    username, an export's filters).
    """

    # No foreign key constraint: entries outlive what they tell of (see the module doc).
    # No index of its own either: every index below begins with it.
    organization = models.ForeignKey(
        "contactcenter.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_api_key_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["organization", "-at", "-id"], name="audit_org_at"),
            models.Index(
                fields=["organization", "object_type", "object_id"], name="audit_org_object"
            ),
            # Partial: most entries are the PBX's, with neither (the bridge writes them
            # with every batch, and an index entry each cost it).
            models.Index(
                fields=["organization", "actor_user_id"],
                name="audit_org_user",
                condition=models.Q(actor_user_id__isnull=False),
            ),
            models.Index(
                fields=["organization", "actor_api_key_id"],
                name="audit_org_key",
                condition=models.Q(actor_api_key_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        target = f" {self.object_type} {self.object_id}".rstrip() if self.object_type else ""
        who = self.actor_label or self.actor_kind
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action}{target}"
