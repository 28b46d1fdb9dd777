from __future__ import annotations

from django.conf import settings
from django.db import models

from contactcenter.models.base import TenantModel, TimestampedModel
from crm.enums import CasePriority, CaseStatus, NotificationKind, PhoneLabel


class Contact(TenantModel, TimestampedModel):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["organization_id", "last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"]),
            models.Index(fields=["organization", "email"]),
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


class Case(TenantModel, TimestampedModel):
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
    due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="case_unique_number"),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "assigned_agent", "status"]),
            models.Index(fields=["organization", "contact"]),
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
