"""Queue alerts raised and cleared (contactcenter/alerts.py has the rules): the record a
report reads, and what the wallboard shows while ``cleared_at`` is empty."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from contactcenter.alerts import AlertKind
from contactcenter.models.base import TenantModel
from contactcenter.models.queues import CallQueue


class QueueAlert(TenantModel):
    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=24, choices=[(k.value, k.value) for k in AlertKind])
    threshold = models.PositiveIntegerField(help_text="The queue's threshold when raised.")
    value = models.FloatField(help_text="The figure when raised.")
    raised_at = models.DateTimeField()
    # Since when the figure has been seen back within the threshold (it clears once that
    # has lasted QUEUE_ALERT_CLEAR_SECONDS); empty while it is bad.
    recovered_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_value = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["organization", "raised_at"], name="queuealert_org_raised")]
        constraints = [
            # Two server processes judging the same figures raise it once.
            models.UniqueConstraint(
                fields=["queue", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="queuealert_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert on queue {self.queue_id}"
