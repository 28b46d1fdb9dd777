from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contactcenter.enums import (
    CallDirection,
    CallEventType,
    CallSource,
    CallStatus,
    CasePriority,
    HangupParty,
    TransferKind,
    TransferStatus,
)
from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel, TimestampedModel, tenant_organization
from contactcenter.models.queues import CallQueue

# Call.flags' key for the supervisor the agent is told of ("whisper" or "barge"): set
# while such a session is live and the organization lets agents see it
# (Organization.agents_see_monitoring; contactcenter/services/monitoring.py).
COACHED_FLAG = "coached"
# Call.flags' key of a caller who asked to be called back while waiting (a Callback
# holds their place): out of the queue, and once ended unanswered a CALLBACK call.
CALLBACK_KEPT_FLAG = "callback_requested"
# Call.flags' keys of a caller moved to another queue (a supervisor's move-to-queue, a
# Twilio exit to another queue): the queue they wait in now, and since when (epoch
# seconds; the latest join wins whatever order the facts come in). The record keeps the
# queue they joined, whose figures count the call; the wallboard counts them waiting
# where they wait.
WAITING_IN_FLAG = "waiting_in"
WAITING_IN_AT_FLAG = "waiting_in_at"


class CallDisposition(TenantModel, TimestampedModel):
    """How an agent closes a call, and what the CRM must do about it."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=64)
    category = models.CharField(max_length=64, blank=True)
    requires_follow_up = models.BooleanField(default=False)
    requires_case_creation = models.BooleanField(default=False)
    default_case_category = models.ForeignKey(
        "crm.CaseCategory", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_case_priority = models.CharField(
        max_length=16, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="disposition_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Call(TenantModel, TimestampedModel):
    """One customer interaction. Its legs and transfers are its events.

    Keyed per organization and source by the PBX's correlation id: Asterisk's
    ``Linkedid`` or the parent ``CallSid`` on Twilio.
    """

    # No index of its own: the unique key and the indexes below begin with it (the
    # bridge updates calls with every batch, and each index is written again).
    organization = tenant_organization(indexed=False)
    source = models.CharField(max_length=16, choices=CallSource.choices)
    external_id = models.CharField(max_length=128)
    # Which PBX connection or account reported the call ("asterisk:3", "twilio:AC..."), so a
    # resync of one connection only closes that connection's calls.
    connection_key = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=16, choices=CallDirection.choices)
    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.RINGING)
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=200, blank=True)
    callee_number = models.CharField(max_length=64, blank=True)
    queue = models.ForeignKey(
        CallQueue, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    started_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(default=0)
    # Facts the status is derived from (see services/telephony/calls.py).
    held_since = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    end_outcome = models.CharField(max_length=16, blank=True)
    hangup_cause = models.IntegerField(null=True, blank=True)
    hangup_cause_text = models.CharField(max_length=128, blank=True)
    hangup_by = models.CharField(max_length=16, choices=HangupParty.choices, blank=True)
    disposition = models.ForeignKey(
        CallDisposition, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    disposition_set_at = models.DateTimeField(null=True, blank=True)
    disposition_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    recording_ref = models.CharField(max_length=500, blank=True)
    # Facts the bridge could not observe (e.g. timestamps unknown during a disconnect).
    flags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="call_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=models.F("started_at")),
                name="call_answered_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="call_ended_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-started_at"]),
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "connection_key", "status"]),
            models.Index(fields=["organization", "agent", "-started_at"]),
            models.Index(fields=["organization", "queue", "-started_at"]),
            # The wallboard's "today" window reads calls by the time they joined a queue.
            models.Index(fields=["organization", "queue", "queued_at"]),
            models.Index(fields=["organization", "caller_number"]),
            # A customer is the callee of an outbound call: with both numbers indexed, the
            # pop's "same customer" (one number or the other) is two index scans, not a
            # scan of every call in each render job (docs/benchmarks.md: the figures the
            # code's comments rest on).
            models.Index(fields=["organization", "callee_number"]),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} {self.status}"


class CallEvent(TenantModel):
    """One entry of a call's timeline. ``dedup_key`` makes a replayed event land once.

    The most written table (every batch of the bridge): neither its organization nor its
    call has an index of its own, the unique key and the (call, time) index begin with
    them."""

    organization = tenant_organization(indexed=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=48, choices=CallEventType.choices)
    occurred_at = models.DateTimeField()
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call_id", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedup_key"], name="callevent_unique_dedup"
            ),
        ]
        indexes = [models.Index(fields=["call", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at.isoformat()}"


class CallTransfer(TenantModel):
    # No index of its own: the unique key begins with it.
    organization = tenant_organization(indexed=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transfers")
    kind = models.CharField(max_length=16, choices=TransferKind.choices)
    status = models.CharField(
        max_length=16, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    from_agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The target as dialled when it is not (or not only) an agent: "1002@from-internal",
    # "+15551234567".
    to_number = models.CharField(max_length=128, blank=True)
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=255)

    class Meta:
        ordering = ["call_id", "requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedup_key"], name="calltransfer_unique_dedup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} transfer of {self.call_id} ({self.status})"
