from django.db import models

# A disposition on a call names the priority of the case it opens, so the enum lives with
# the calls; the CRM uses it under its own name.
from contactcenter.enums import CasePriority as CasePriority


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    WORK = "work", "Work"
    HOME = "home", "Home"
    OTHER = "other", "Other"


class NotificationKind(models.TextChoices):
    CASE_ASSIGNED = "case.assigned", "Case assigned"
    CASE_OVERDUE = "case.overdue", "Case overdue"
    CASE_UPDATED = "case.updated", "Case updated"
    FOLLOW_UP_SCHEDULED = "follow_up.scheduled", "Follow-up scheduled"
    CALL_MISSED = "call.missed", "Missed call"
    QUEUE_ALERT = "queue.alert", "Queue alert"
    SYSTEM = "system", "System"


class CaseOrigin(models.TextChoices):
    MANUAL = "manual", "Opened by a person"
    DISPOSITION = "disposition", "Opened by a call's disposition"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELED = "canceled", "Canceled"


# The kinds worth an e-mail as well as the in-app notification (when the user wants it).
EMAIL_NOTIFICATION_KINDS = frozenset(
    {NotificationKind.CASE_ASSIGNED, NotificationKind.CASE_OVERDUE}
)

# Cases still being worked: the ones that can be overdue.
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.PENDING)
