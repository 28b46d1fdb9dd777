from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from contactcenter.enums import QueueMaxWaitAction, QueueStrategy, RecordingPolicy
from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel, TimestampedModel


class CallQueue(TenantModel, TimestampedModel):
    name = models.CharField(max_length=200)
    # The queue's name in the PBX (app_queue's queues.conf section, Twilio queue name).
    pbx_queue_name = models.CharField(max_length=128)
    service_level_seconds = models.PositiveIntegerField(
        default=20, help_text="A call answered within this many seconds meets the service level."
    )
    short_abandon_seconds = models.PositiveIntegerField(
        default=5, help_text="Callers who hang up sooner are counted apart, not as abandons."
    )
    strategy = models.CharField(
        max_length=16, choices=QueueStrategy.choices, default=QueueStrategy.RRMEMORY
    )
    max_wait_seconds = models.PositiveIntegerField(default=300, validators=[MinValueValidator(1)])
    # Twilio queues (telephony/twilio/routing/exits.py): what happens to a caller who
    # waited max_wait_seconds, or is alone in a leave_empty queue.
    max_wait_action = models.CharField(
        max_length=16, choices=QueueMaxWaitAction.choices, default=QueueMaxWaitAction.STAY
    )
    max_wait_queue = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where max_wait_action 'queue' sends the caller (same organization).",
    )
    max_wait_message = models.CharField(
        max_length=300,
        blank=True,
        help_text="Said before hanging up (max_wait_action 'hangup'); blank: a default.",
    )
    leave_empty = models.BooleanField(
        default=False,
        help_text="Waiting callers leave while no member can take a call (app_queue's "
        "leavewhenempty).",
    )
    # How we route a Twilio queue ourselves (telephony/twilio/routing/); app_queue has
    # the same settings in queues.conf (timeout, retry, wrapuptime, weight).
    ring_timeout_seconds = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(5)], help_text="How long an agent is rung."
    )
    retry_seconds = models.PositiveIntegerField(
        default=5, help_text="After a missed ring, how long before the caller is offered again."
    )
    wrapup_seconds = models.PositiveIntegerField(
        default=0, help_text="After a call, how long before the agent is offered another."
    )
    join_empty = models.BooleanField(
        default=True,
        help_text="Callers may join while no member can take a call (app_queue's joinempty).",
    )
    pause_after_misses = models.PositiveIntegerField(
        default=0,
        help_text="Pause an agent who let this many offers in a row ring out (0: never).",
    )
    weight = models.IntegerField(
        default=0, help_text="Queues of higher weight offer their callers to shared agents first."
    )
    is_active = models.BooleanField(default=True)
    # Blank: the organization's recording policy (contactcenter.enums.RecordingPolicy).
    recording_policy = models.CharField(max_length=16, choices=RecordingPolicy.choices, blank=True)
    # Alerts (contactcenter/alerts.py, docs/supervisor.md#alerts); empty: no such alert.
    alert_longest_wait_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Alert while a caller has waited longer than this."
    )
    alert_service_level_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="Alert while today's service level is below this percentage.",
    )
    alert_service_level_min_calls = models.PositiveIntegerField(
        default=10,
        help_text="Judge the service level only once today has this many answered or "
        "abandoned calls: a quiet queue's first missed call raises no alert.",
    )
    alert_callers_waiting = models.PositiveIntegerField(
        null=True, blank=True, help_text="Alert while more callers than this wait."
    )
    alert_agents_available = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Alert while fewer logged-in agents than this are available.",
    )
    agents: models.ManyToManyField[Agent, QueueMembership] = models.ManyToManyField(
        Agent, through="QueueMembership", related_name="queues"
    )

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "pbx_queue_name"], name="queue_unique_pbx_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QueueMembership(TenantModel):
    """An agent's membership of a queue; pause is per queue, as in app_queue."""

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="queue_memberships")
    penalty = models.PositiveIntegerField(default=0)
    is_logged_in = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=64, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    calls_taken = models.PositiveIntegerField(default=0)
    last_call_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queue_id", "agent_id"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "agent"], name="queuemember_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} in {self.queue_id}"
