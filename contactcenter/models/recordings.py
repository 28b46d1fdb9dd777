"""Call recordings: what the PBX recorded, where the file is, and what became of it."""

from __future__ import annotations

from django.db import models

from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel, TimestampedModel
from contactcenter.models.calls import Call

# The call's flag (``Call.flags``) holding its latest recording's status, so the screens
# show it without another read (contactcenter/services/recordings.py keeps it).
RECORDING_FLAG = "recording"


class Recording(TenantModel, TimestampedModel):
    """One recording of one leg of a call (Asterisk MixMonitor on the customer's channel,
    so a transfer keeps recording; ``agent`` is who had the call when it started).

    Keyed per organization and source by ``leg_id``, the recorded channel's Uniqueid:
    the bridge's own start, the ``MixMonitorStart`` event and the ``MIXMONITOR_FILENAME``
    variable all land on the same row, in any order.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="recordings")
    source = models.CharField(max_length=16, choices=CallSource.choices)
    leg_id = models.CharField(max_length=128)
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.RECORDING
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The name the PBX writes the file under (MIXMONITOR_FILENAME), and its format.
    pbx_filename = models.CharField(max_length=500, blank=True)
    format = models.CharField(max_length=16, blank=True)
    # Where the stored file is (a key of the recordings storage) and its size in bytes.
    storage_key = models.CharField(max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # [{"start": iso, "end": iso | null}, ...]: the spans during which nothing was recorded.
    paused_spans = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["call_id", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "leg_id"], name="recording_unique_leg"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"recording of {self.call_id} ({self.status})"
