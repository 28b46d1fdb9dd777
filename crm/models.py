from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from contactcenter.models.base import TenantModel, TenantQuerySet, TimestampedModel
from crm.enums import (
    CaseOrigin,
    CasePriority,
    CaseStatus,
    FollowUpStatus,
    NotificationKind,
    PhoneLabel,
)


class _LiveManager(models.Manager[Any]):
    """The rows not in the trash: every read of the product goes through it."""

    def get_queryset(self) -> TenantQuerySet[Any]:
        return TenantQuerySet(self.model, using=self._db).filter(deleted_at__isnull=True)

    def for_organization(self, organization: Any) -> TenantQuerySet[Any]:
        return self.get_queryset().for_organization(organization)


class Trashable(models.Model):
    """A row that goes to the trash before it goes for good (crm/services/trash.py).

    ``objects`` sees only the rows not in the trash, so every list, lookup, screen pop
    and sweep leaves trashed ones out without saying so; ``all_objects`` sees both
    (the trash itself, restore, purge). A foreign key from another row still reaches a
    trashed one (Django follows relations with the plain manager).
    """

    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects: Any = _LiveManager()
    all_objects: Any = TenantQuerySet.as_manager()
    organization_id: int  # every trashable model is a TenantModel too

    class Meta:
        abstract = True


class Contact(Trashable, TenantModel, TimestampedModel):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["organization_id", "last_name", "first_name", "id"]
        default_manager_name = "objects"
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"]),
            models.Index(fields=["organization", "email"]),
            # The trash and its purge.
            models.Index(
                fields=["organization", "deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="contact_trashed",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.company or f"Contact #{self.pk}"


class ContactPhone(TenantModel):
    """A contact's phone number, stored in E.164 so any written form finds it."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20)
    label = models.CharField(max_length=16, choices=PhoneLabel.choices, default=PhoneLabel.MOBILE)

    class Meta:
        ordering = ["contact_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="contactphone_unique"),
        ]
        indexes = [models.Index(fields=["organization", "number"])]

    def __str__(self) -> str:
        return self.number


class CaseCategory(TenantModel):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["organization_id", "name"]
        verbose_name_plural = "case categories"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"],
                name="casecategory_unique_name",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseCounter(TenantModel):
    """The last case number given out in an organization (row-locked on increment)."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="casecounter_one_per_org"),
        ]


class Case(Trashable, TenantModel, TimestampedModel):
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.CharField(
        max_length=16, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    category = models.ForeignKey(
        CaseCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    assigned_agent = models.ForeignKey(
        "contactcenter.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    source_call = models.ForeignKey(
        "contactcenter.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # Under legal hold: its call's recordings outlive the retention purge.
    legal_hold = models.BooleanField(default=False)
    # How the case came to be; a disposition's case also names the disposition it now
    # follows (a later change of the call's disposition is recorded in the history).
    origin = models.CharField(max_length=16, choices=CaseOrigin.choices, default=CaseOrigin.MANUAL)
    source_disposition = models.ForeignKey(
        "contactcenter.CallDisposition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    # Set once when the periodic sweep finds the case past due_at (and its owner is told);
    # cleared when due_at moves, so a new deadline can be missed (and told) again.
    overdue_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        default_manager_name = "objects"
        # Both hold trashed cases too: a number is never given out again, and a call's
        # disposition case in the trash is still its case (no second one is opened).
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="case_unique_number"),
            # Exactly one case per dispositioned call, whatever the races and re-deliveries.
            models.UniqueConstraint(
                fields=["source_call"],
                condition=Q(origin=CaseOrigin.DISPOSITION),
                name="case_one_per_dispositioned_call",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "assigned_agent", "status"]),
            models.Index(fields=["organization", "contact"]),
            # The overdue sweep: open cases past due that were not flagged yet.
            models.Index(
                fields=["due_at"],
                condition=Q(overdue_at__isnull=True, status__in=["open", "pending"]),
                name="case_overdue_candidates",
            ),
            models.Index(
                fields=["organization", "deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="case_trashed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"CASE-{self.number:06d}"


class CaseHistory(TenantModel):
    """One changed field of a case, as data (the audit trail)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history")
    field = models.CharField(max_length=64)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "changed_at", "id"]
        verbose_name_plural = "case history"

    def __str__(self) -> str:
        return f"{self.case_id}.{self.field}"


class CaseNote(TenantModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class Notification(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class NotificationPreference(TenantModel):
    """A user's choice for one kind of notification. No row: both channels on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpref_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class OutboundEmail(TenantModel):
    """An e-mail to send (the outbox): written with the change that warrants it, sent by
    a task after commit, at most once per row (``sent_at`` under a row lock)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    to_address = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="email_unsent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address}"


class FollowUp(TenantModel, TimestampedModel):
    """Something an agent must do again by ``due_at`` (call the customer back, say)."""

    agent = models.ForeignKey(
        "contactcenter.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    source_call = models.ForeignKey(
        "contactcenter.Call",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    disposition = models.ForeignKey(
        "contactcenter.CallDisposition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # One follow-up per dispositioned call (the rules may run more than once).
            models.UniqueConstraint(
                fields=["source_call"],
                condition=Q(source_call__isnull=False),
                name="followup_one_per_call",
            ),
        ]
        indexes = [models.Index(fields=["organization", "agent", "status", "due_at"])]

    def __str__(self) -> str:
        return f"follow-up {self.pk} due {self.due_at.isoformat()}"


def _default_business_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (datetime.weekday())


class CaseSlaPolicy(TenantModel):
    """An organization's business hours and the response time of each case priority.

    Response times are business minutes: counted only inside the business hours of
    business days, in the organization's time zone. No row: the defaults below.
    """

    business_days = models.JSONField(default=_default_business_days)
    day_start = models.TimeField(default=dt.time(9, 0))
    day_end = models.TimeField(default=dt.time(17, 0))
    holidays = models.JSONField(default=list, blank=True, help_text='ISO dates: ["2026-12-25"]')
    urgent_minutes = models.PositiveIntegerField(default=60)
    high_minutes = models.PositiveIntegerField(default=4 * 60)
    normal_minutes = models.PositiveIntegerField(default=8 * 60)
    low_minutes = models.PositiveIntegerField(default=3 * 8 * 60)
    # When a disposition asks for a follow-up: due this many business minutes later.
    follow_up_minutes = models.PositiveIntegerField(default=8 * 60)

    class Meta:
        verbose_name = "case SLA policy"
        verbose_name_plural = "case SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="caseslapolicy_one_per_org"),
            models.CheckConstraint(
                condition=Q(day_end__gt=models.F("day_start")), name="caseslapolicy_day_order"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of {self.organization_id}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from crm.sla import parse_business_days, parse_holidays

        errors = {}
        for field, parse in (("business_days", parse_business_days), ("holidays", parse_holidays)):
            try:
                parse(getattr(self, field))
            except ValueError as exc:
                errors[field] = str(exc)
        if self.day_start and self.day_end and self.day_end <= self.day_start:
            errors["day_end"] = "The day must end after it starts."
        if errors:
            raise ValidationError(errors)

    def response_minutes(self, priority: str) -> int:
        minutes: int = getattr(self, f"{priority}_minutes")
        return minutes
