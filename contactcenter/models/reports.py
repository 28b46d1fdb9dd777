"""Daily roll-ups of the call and agent records, for reports (docs/reports.md).

A roll-up row holds counts and sums, never ratios: a report adds rows up and divides
once, so a range's service level is taken over its calls, not averaged over its days.
``DailyRollup`` says that an organization's day was rolled up, in which time zone and
when; the report selector only trusts a day computed late enough to be final.
"""

from __future__ import annotations

from django.db import models

from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel
from contactcenter.models.queues import CallQueue


class DailyRollup(TenantModel):
    """One organization's calendar day (in ``time_zone``) was rolled up at ``computed_at``."""

    date = models.DateField()
    time_zone = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["organization_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="rollup_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.date} @ {self.computed_at:%Y-%m-%d %H:%M}"


class QueueDayStats(TenantModel):
    """A queue's calls offered on one local day (by ``queued_at``), as counts and sums."""

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="day_stats")
    date = models.DateField()
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    answered_within_service_level = models.PositiveIntegerField(default=0)
    # ASA = wait_seconds_sum / wait_count; AHT = talk_seconds_sum / talk_count.
    wait_seconds_sum = models.PositiveBigIntegerField(default=0)
    wait_count = models.PositiveIntegerField(default=0)
    talk_seconds_sum = models.PositiveBigIntegerField(default=0)
    talk_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["organization_id", "date", "queue_id"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "date"], name="queuestats_unique_day"),
        ]
        indexes = [models.Index(fields=["organization", "date"])]

    def __str__(self) -> str:
        return f"queue {self.queue_id} {self.date}"


class AgentDayStats(TenantModel):
    """An agent's answered calls and time in each state on one local day."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="day_stats")
    date = models.DateField()
    answered = models.PositiveIntegerField(default=0)
    talk_count = models.PositiveIntegerField(default=0)
    talk_seconds_sum = models.PositiveBigIntegerField(default=0)
    hold_seconds_sum = models.PositiveBigIntegerField(default=0)
    # {"available": 3600, "paused": 120, ...}: whole seconds, only states with time.
    state_seconds = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["organization_id", "date", "agent_id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "date"], name="agentstats_unique_day"),
        ]
        indexes = [models.Index(fields=["organization", "date"])]

    def __str__(self) -> str:
        return f"agent {self.agent_id} {self.date}"
