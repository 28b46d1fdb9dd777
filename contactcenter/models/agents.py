from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from config.fields import EncryptedTextField
from contactcenter.enums import AgentState
from contactcenter.models.base import TenantModel, TimestampedModel


class Agent(TenantModel, TimestampedModel):
    """A person who takes calls: the PBX side (extension, interface) and the state."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agent",
    )
    name = models.CharField(max_length=200)
    extension = models.CharField(max_length=32)
    # The queue member interface as the PBX names it, e.g. "PJSIP/1001".
    interface = models.CharField(max_length=128)
    state = models.CharField(max_length=16, choices=AgentState.choices, default=AgentState.OFFLINE)
    state_reason = models.CharField(max_length=64, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # The agent's phone as the PBX last reported it (idle, ringing, in_use, ...).
    device_state = models.CharField(max_length=16, blank=True)
    is_active = models.BooleanField(default=True)
    # The browser softphone's SIP account (docs/softphone.md). Write-only over the API;
    # only the agent's own console receives them, in its snapshot. A blank domain or
    # WebSocket URL falls back to SOFTPHONE_SIP_DOMAIN / SOFTPHONE_SIP_WEBSOCKET_URL.
    sip_username = models.CharField(
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9._~+-]+$", "Letters, digits and ._~+- only.")],
    )
    sip_password = EncryptedTextField(max_length=128, blank=True)
    sip_domain = models.CharField(
        max_length=255,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$", "A host name or address.")],
    )
    sip_websocket_url = models.CharField(
        max_length=255,
        blank=True,
        validators=[RegexValidator(r"^wss?://[^\s]+$", "A ws:// or wss:// URL.")],
    )

    class Meta:
        ordering = ["organization_id", "extension"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "extension"], name="agent_unique_extension"
            ),
            models.UniqueConstraint(
                fields=["organization", "interface"], name="agent_unique_interface"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.extension})"

    @property
    def twilio_identity(self) -> str:
        """The agent's Twilio Client identity: their browser softphone's voice tokens
        carry it, and Twilio names them ``client:<identity>`` in calls and callbacks."""
        return f"agent-{self.pk}"


class AgentStateLog(TenantModel):
    """One interval an agent spent in one state; ``ended_at`` is null for the current one."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="state_log")
    state = models.CharField(max_length=16, choices=AgentState.choices)
    reason = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agent_id", "started_at"]
        indexes = [models.Index(fields=["organization", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"], condition=Q(ended_at__isnull=True), name="agentstate_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="agentstate_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.state} {self.started_at:%Y-%m-%d %H:%M:%S}"
