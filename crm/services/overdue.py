"""Cases past their due date: flagged once, and their owner told once."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contactcenter.services import audit
from crm.enums import OPEN_CASE_STATUSES, NotificationKind
from crm.models import Case
from crm.services.cases import case_summary_text
from crm.services.notifications import user_notify


@transaction.atomic
def case_overdue_mark(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Flag up to ``limit`` open cases whose due date has passed and that are not flagged
    yet (``overdue_at``), and tell each one's assigned agent (``case.overdue``, in the app
    and by e-mail, as they prefer). Returns the ids flagged.

    Concurrent sweeps skip each other's rows (SKIP LOCKED), and a flagged case is never
    picked again, so each case is told once per due date. An unassigned case is flagged
    with no one to tell.
    """
    now = now or timezone.now()
    cases = list(
        Case.objects.filter(status__in=OPEN_CASE_STATUSES, due_at__lt=now, overdue_at__isnull=True)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("organization", "assigned_agent")
        .order_by("due_at", "pk")[:limit]
    )
    audit.record_many(
        [
            audit.Entry(
                action="overdue",
                organization_id=case.organization_id,
                object_type="crm.case",
                object_id=case.pk,
                object_label=audit.label_of(case),
                changes={"overdue_at": [None, now.isoformat()]},
            )
            for case in cases
        ]
    )
    for case in cases:
        case.overdue_at = now
        case.save(update_fields=["overdue_at"])  # updated_at stays: no one changed the case
        agent = case.assigned_agent
        if agent is None or agent.user_id is None:
            continue
        user_notify(
            organization_id=case.organization_id,
            user_id=agent.user_id,
            kind=NotificationKind.CASE_OVERDUE,
            title=f"{case.reference} is overdue",
            body=case.title,
            data={"case_id": case.pk, "reference": case.reference},
            email_text=case_summary_text(case),
        )
    return [case.pk for case in cases]
