from django.db import models


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class CasePriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    WORK = "work", "Work"
    HOME = "home", "Home"
    OTHER = "other", "Other"


class NotificationKind(models.TextChoices):
    CASE_ASSIGNED = "case.assigned", "Case assigned"
    CASE_OVERDUE = "case.overdue", "Case overdue"
    CASE_UPDATED = "case.updated", "Case updated"
    CALL_MISSED = "call.missed", "Missed call"
    SYSTEM = "system", "System"
