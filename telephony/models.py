"""Each organization's connections to the phone world. Secrets are write-only in the API
and stored encrypted (config/fields.py)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from config.fields import EncryptedTextField
from contactcenter.models.base import TenantModel, TimestampedModel
from telephony.ami.parties import validate_contexts, validate_trunks
from telephony.cel.source import validate_table, validate_time_zone, validate_url
from telephony.egress import no_control_characters, validate_host


class AsteriskConnection(TenantModel, TimestampedModel):
    """One Asterisk Manager Interface endpoint; the bridge opens one connection per record.

    No field may hold a control character: each is written on the AMI wire or in logs,
    where a line break would start a line of its own. Where host:port may point is the
    operator's policy (telephony/egress.py), checked by the API and the admin when they
    change and again by the bridge at every connect.
    """

    name = models.CharField(max_length=100, validators=[no_control_characters])
    host = models.CharField(max_length=255, validators=[no_control_characters, validate_host])
    port = models.PositiveIntegerField(
        default=5038, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    username = models.CharField(max_length=100, validators=[no_control_characters])
    secret = EncryptedTextField(max_length=255, validators=[no_control_characters])
    is_enabled = models.BooleanField(default=True)
    # Where the PBX logs its calls (CEL, queue_log, CDR), read-only, to fill what AMI
    # missed while the bridge was away (telephony/cel/). Optional; the host is checked
    # like the AMI target's.
    cel_url = models.CharField(
        "CEL/CDR database URL",
        max_length=255,
        blank=True,
        validators=[no_control_characters, validate_url],
        help_text="postgresql://user@host:5432/asterisk (the password goes in its own field)",
    )
    cel_password = EncryptedTextField(
        "CEL/CDR database password", max_length=255, blank=True, validators=[no_control_characters]
    )
    cel_table = models.CharField(max_length=127, default="cel", validators=[validate_table])
    cel_queue_log_table = models.CharField(
        max_length=127,
        default="queue_log",
        blank=True,
        validators=[validate_table],
        help_text="app_queue's queue_log through realtime; empty: not logged to a table",
    )
    cel_cdr_table = models.CharField(max_length=127, default="cdr", validators=[validate_table])
    cel_time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="the zone of the logged times (cel_pgsql's usegmtime=yes: UTC)",
    )

    # Which channels come from outside, for the calls' direction (telephony/ami/parties.py,
    # docs/telephony.md "Direction"). Empty: the defaults.
    trunks = models.TextField(
        max_length=4000,
        blank=True,
        validators=[validate_trunks],
        help_text="PJSIP/trunk*, SIP/provider... (empty: non-numeric endpoints)",
    )
    inbound_contexts = models.TextField(
        max_length=4000,
        blank=True,
        validators=[validate_contexts],
        help_text="from-trunk, from-pstn... (empty: the usual FreePBX names)",
    )

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="asterisk_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class TwilioAccount(TenantModel, TimestampedModel):
    """The organization's Twilio account; webhooks are verified with its auth token."""

    account_sid = models.CharField(
        max_length=34,
        unique=True,
        validators=[RegexValidator(r"^AC[0-9a-fA-F]{32}$", "Not a Twilio account SID.")],
    )
    auth_token = EncryptedTextField(max_length=128)
    # For the browser softphone (Voice JavaScript SDK): an API key pair signs the agents'
    # access tokens, and the TwiML app is what their outgoing calls ask Twilio for.
    api_key_sid = models.CharField(
        max_length=34,
        blank=True,
        validators=[RegexValidator(r"^SK[0-9a-fA-F]{32}$", "Not a Twilio API key SID.")],
    )
    api_key_secret = EncryptedTextField(max_length=128, blank=True)
    twiml_app_sid = models.CharField(
        max_length=34,
        blank=True,
        validators=[RegexValidator(r"^AP[0-9a-fA-F]{32}$", "Not a TwiML app SID.")],
    )
    # The number customers see when an agent calls them from the browser: one of the
    # account's Twilio numbers (or a verified caller ID), in E.164.
    caller_id = models.CharField(
        max_length=16,
        blank=True,
        validators=[RegexValidator(r"^\+[1-9][0-9]{1,14}$", "Not an E.164 phone number.")],
    )
    is_enabled = models.BooleanField(default=True)
    # Delete each recording from Twilio once our copy is stored and checked
    # (telephony/twilio/recording_media.py): Twilio then keeps no copy to bill or leak.
    recordings_delete_after_copy = models.BooleanField(default=False)

    class Meta:
        ordering = ["organization_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="twilio_one_per_org"),
        ]

    def __str__(self) -> str:
        return self.account_sid


class CallLogReconciliation(TenantModel, TimestampedModel):
    """One day of a connection's calls compared with the PBX's CDRs (telephony/cel/
    reconcile.py): what was missing or different, and what was repaired."""

    connection_key = models.CharField(max_length=64)
    day = models.DateField()
    pbx_calls = models.PositiveIntegerField(default=0)
    stored_calls = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0, help_text="in the CDRs, not stored")
    unknown_to_pbx = models.PositiveIntegerField(default=0, help_text="stored, no CDR")
    estimated = models.PositiveIntegerField(
        default=0, help_text="stored with an estimated end (ended while disconnected)"
    )
    different = models.PositiveIntegerField(default=0, help_text="end time or answer differs")
    repaired = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day", "connection_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection_key", "day"], name="reconciliation_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_key} {self.day}"


class OfferStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed"  # chosen; Twilio not asked yet
    RINGING = "ringing", "Ringing"  # Twilio rings the agent's client
    CONNECTED = "connected", "Connected"
    MISSED = "missed", "Missed"  # no answer, busy, rejected, or Twilio refused
    DONE = "done", "Done"  # the connected call is over for the agent
    EXPIRED = "expired", "Expired"  # nobody reported back in time (repair)
    CANCELED = "canceled", "Canceled"  # the caller left while it rang


OFFER_ACTIVE = (OfferStatus.CLAIMED, OfferStatus.RINGING, OfferStatus.CONNECTED)


class TwilioOffer(TenantModel):
    """One caller of a Twilio queue offered to one agent (telephony/twilio/routing/).

    The routing decision's state: an agent with an active offer (claimed, ringing,
    connected) is busy, and the database refuses a second one for them, whichever
    process decides. Finished offers are the memory of the strategies (who was rung
    last, who took how many calls, who missed this caller) and of wrap-up.
    """

    # The waiting caller offered, or the callback to place (exactly one of the two).
    call = models.ForeignKey(
        "contactcenter.Call", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    callback = models.ForeignKey(
        "contactcenter.Callback", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey("contactcenter.Agent", on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey("contactcenter.CallQueue", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=OfferStatus.choices)
    # One of the offers of a ring-all queue's caller: every free member rings at once,
    # in one <Dial>, and the first to answer takes the call.
    ring_all = models.BooleanField(default=False)
    # Why this agent (the strategy, the penalty, how many were free): the routing audit.
    reason = models.CharField(max_length=200, blank=True)
    leg_sid = models.CharField(max_length=64, blank=True)  # the agent's leg, once answered
    # The conference the connected call was moved into for a supervisor to join it
    # (telephony/twilio/moving.py); empty while the agent and the caller are bridged by
    # the <Dial> that connected them.
    room = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    rung_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["call", "status"]),
            models.Index(fields=["agent", "-ended_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(status__in=OFFER_ACTIVE),
                name="twilio_offer_one_active_per_agent",
            ),
            # One agent rung per caller, but for ring-all; even then one agent per offer
            # and one of them connected.
            models.UniqueConstraint(
                fields=["call"],
                condition=models.Q(status__in=OFFER_ACTIVE, ring_all=False),
                name="twilio_offer_one_active_per_call",
            ),
            models.UniqueConstraint(
                fields=["call", "agent"],
                condition=models.Q(status__in=OFFER_ACTIVE),
                name="twilio_offer_one_active_per_call_agent",
            ),
            models.UniqueConstraint(
                fields=["call"],
                condition=models.Q(status=OfferStatus.CONNECTED),
                name="twilio_offer_one_connected_per_call",
            ),
            models.UniqueConstraint(
                fields=["callback"],
                condition=models.Q(status__in=OFFER_ACTIVE),
                name="twilio_offer_one_active_per_callback",
            ),
            models.CheckConstraint(
                condition=models.Q(call__isnull=True) ^ models.Q(callback__isnull=True),
                name="twilio_offer_call_or_callback",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} -> {self.agent_id} {self.status}"


class ExitReason(models.TextChoices):
    MAX_WAIT = "max_wait", "Waited the queue's maximum"
    EMPTY = "empty", "No member could take a call (leave_empty)"
    MOVED = "moved", "Moved to another queue by a supervisor"


class TwilioQueueExit(TenantModel):
    """A waiting Twilio caller taken out of a queue by us (telephony/twilio/routing/
    exits.py): the maximum wait passed, or nobody could take a call. The row is the
    claim (one per call and queue: two processes never both redirect the caller) and
    the record of what was done; until ``redirected_at`` is set Twilio has not been
    asked yet, and the repair job asks again."""

    call = models.ForeignKey("contactcenter.Call", on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey("contactcenter.CallQueue", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=ExitReason.choices)
    action = models.CharField(max_length=16)  # contactcenter.enums.QueueMaxWaitAction
    # The queue the caller goes to (action "queue"): they are routed there from now on.
    to_queue = models.ForeignKey(
        "contactcenter.CallQueue",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    redirected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "queue"], name="twilio_exit_one_per_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.reason} -> {self.action}"
