"""Voicemails: a queue's caller who left a message instead of waiting, and what became of it.

A caller reaches the queue's voicemail exit (Asterisk ``VoiceMail()``, Twilio
``<Record>``); the message is stored like a recording (the same storage, the same
playback rules), the queue's agents are told, one of them claims it, and it is turned
into a callback or a case (docs/recordings.md, "Voicemail").
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from contactcenter.enums import CallSource
from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel, TimestampedModel
from contactcenter.models.callbacks import Callback
from contactcenter.models.calls import Call
from contactcenter.models.queues import CallQueue


class VoicemailStatus(models.TextChoices):
    NEW = "new", "New"  # waiting for an agent
    CLAIMED = "claimed", "Claimed"  # an agent has it
    DONE = "done", "Done"  # turned into a callback or a case, or closed


class VoicemailMedia(models.TextChoices):
    """Where the message's audio is."""

    WAITING = "waiting", "Waiting for the file"
    STORED = "stored", "Stored"
    FAILED = "failed", "Failed"


class Voicemail(TenantModel, TimestampedModel):
    """One message left by one caller.

    Keyed per organization and source by ``leg_id``: the caller's channel Uniqueid on
    Asterisk (``VM_MESSAGEFILE`` and ``MessageWaiting`` meet on one row, in any order),
    the CallSid on Twilio (the ``<Record>``'s callbacks, in any order).
    """

    source = models.CharField(max_length=16, choices=CallSource.choices)
    leg_id = models.CharField(max_length=128)
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="voicemails"
    )
    queue = models.ForeignKey(
        CallQueue, on_delete=models.SET_NULL, null=True, blank=True, related_name="voicemails"
    )
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=200, blank=True)
    mailbox = models.CharField(max_length=200, blank=True)  # Asterisk's "1000@default"
    left_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The file as the PBX names it (VM_MESSAGEFILE + format), or Twilio's RecordingUrl.
    pbx_filename = models.CharField(max_length=500, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=16, blank=True)
    media = models.CharField(
        max_length=16, choices=VoicemailMedia.choices, default=VoicemailMedia.WAITING
    )
    storage_key = models.CharField(max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    failure = models.CharField(max_length=200, blank=True)
    transcription = models.TextField(blank=True)
    transcription_status = models.CharField(max_length=16, blank=True)  # Twilio's
    status = models.CharField(
        max_length=16, choices=VoicemailStatus.choices, default=VoicemailStatus.NEW
    )
    claimed_by = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # What it turned into.
    callback = models.ForeignKey(
        Callback, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "crm.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["organization_id", "left_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "leg_id"], name="voicemail_unique_leg"
            ),
            models.CheckConstraint(
                condition=Q(status="new") | Q(claimed_by__isnull=False) | Q(done_at__isnull=False),
                name="voicemail_claimed_has_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["queue", "status"]),
            models.Index(fields=["media", "left_at"]),
        ]

    def __str__(self) -> str:
        return f"voicemail {self.pk} ({self.status})"
