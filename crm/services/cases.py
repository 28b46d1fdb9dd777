"""Cases, their numbers, history and notes: the only code that writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from contactcenter import publish
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call, CallDisposition, Organization, User
from contactcenter.services import audit
from crm.enums import CaseOrigin, CasePriority, CaseStatus, NotificationKind
from crm.models import Case, CaseCategory, CaseCounter, CaseHistory, CaseNote, Contact
from crm.selectors.sla import case_due_at
from crm.services._common import UNSET, Unset, ensure_same_organization
from crm.services.notifications import user_notify

# The fields case_update may change, each recorded in CaseHistory when it does.
_RELATED_FIELDS = ("category", "assigned_agent", "contact", "source_call")
CASE_TRACKED_FIELDS = ("title", "description", "status", "priority", *_RELATED_FIELDS, "due_at")


def case_number_allocate(*, organization_id: int) -> int:
    """The next case number of the organization: 1, 2, 3 ... with no gap and no repeat.

    The UPDATE row-locks the organization's counter until the caller's transaction
    ends, so concurrent creators queue on it (and a rolled-back case gives its number
    back). The counter row is created on first use; ``ignore_conflicts`` lets two
    first creators race safely. Updating before inserting keeps the common path to one
    statement and avoids burning a sequence value on every case.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("case_number_allocate must run inside the case's transaction.")
    counters = CaseCounter.objects.filter(organization_id=organization_id)
    if not counters.update(last_number=F("last_number") + 1):
        CaseCounter.objects.bulk_create(
            [CaseCounter(organization_id=organization_id)], ignore_conflicts=True
        )
        counters.update(last_number=F("last_number") + 1)
    number: int = counters.values_list("last_number", flat=True).get()
    return number


def _check_choice(value: str, choices: list[str], field: str) -> None:
    if value not in choices:
        raise ApplicationError(
            f'"{value}" is not a valid choice.', code="invalid_choice", field=field
        )


def _check_fields(case: Case, related: tuple[str, ...] = _RELATED_FIELDS) -> None:
    if not case.title.strip():
        raise ApplicationError("This field may not be blank.", code="blank", field="title")
    _check_choice(case.status, CaseStatus.values, "status")
    _check_choice(case.priority, CasePriority.values, "priority")
    if case.due_at is not None and timezone.is_naive(case.due_at):
        raise ApplicationError("A time zone is required.", code="naive_datetime", field="due_at")
    for field in related:
        ensure_same_organization(
            getattr(case, field), organization_id=case.organization_id, field=field
        )
    case.full_clean(
        exclude=["organization", "number", *_RELATED_FIELDS, "source_disposition", "created_by"],
        validate_unique=False,
        validate_constraints=False,
    )


def _apply_status_times(case: Case, previous_status: str | None, now: datetime) -> None:
    """Resolving stamps resolved_at; closing stamps closed_at; reopening clears both.

    A case closed without being resolved (a duplicate, say) keeps resolved_at empty.
    """
    if case.status == previous_status:
        return
    if case.status == CaseStatus.RESOLVED:
        case.resolved_at = now
        case.closed_at = None
    elif case.status == CaseStatus.CLOSED:
        case.closed_at = now
    else:
        case.resolved_at = None
        case.closed_at = None


def case_summary_text(case: Case) -> str:
    """The plain-text lines an e-mail about a case carries (times in the org's zone)."""
    lines = [f"{case.reference}: {case.title}", f"Priority: {case.get_priority_display()}"]
    if case.due_at is not None:
        local = timezone.localtime(case.due_at, ZoneInfo(case.organization.time_zone))
        lines.append(f"Due: {local:%a %d %b %Y %H:%M %Z}")
    if case.description:
        lines += ["", case.description]
    return "\n".join(lines)


def _notify_assignee(case: Case, actor: User | None) -> None:
    agent = case.assigned_agent
    if agent is None or agent.user_id is None or (actor is not None and agent.user_id == actor.pk):
        return
    user_notify(
        organization_id=case.organization_id,
        user_id=agent.user_id,
        kind=NotificationKind.CASE_ASSIGNED,
        title=f"{case.reference} assigned to you",
        body=case.title,
        data={"case_id": case.pk, "reference": case.reference},
        email_text=case_summary_text(case),
    )


@transaction.atomic
def case_create(
    *,
    organization: Organization,
    actor: User | None,
    title: str,
    description: str = "",
    status: str = CaseStatus.OPEN,
    priority: str = CasePriority.NORMAL,
    category: CaseCategory | None = None,
    assigned_agent: Agent | None = None,
    contact: Contact | None = None,
    source_call: Call | None = None,
    due_at: datetime | Unset | None = UNSET,
    origin: str = CaseOrigin.MANUAL,
    source_disposition: CallDisposition | None = None,
) -> Case:
    """Open a case with the organization's next number.

    Without ``due_at`` the case is due after its priority's response time in the
    organization's business hours (crm.selectors.sla); ``due_at=None`` means no due date.
    The assignee (when it is someone other than the actor) gets a case.assigned
    notification. After commit: ``case.created`` to the consoles concerned.
    """
    if isinstance(due_at, Unset):
        due_at = None
        if priority in CasePriority.values:  # a wrong one is refused below, on "priority"
            due_at = case_due_at(organization=organization, priority=priority, start=timezone.now())
    case = Case(
        organization=organization,
        title=title.strip(),
        description=description,
        status=status,
        priority=priority,
        category=category,
        assigned_agent=assigned_agent,
        contact=contact,
        source_call=source_call,
        due_at=due_at,
        created_by=actor,
        origin=origin,
        source_disposition=source_disposition,
    )
    _check_fields(case)
    _apply_status_times(case, None, timezone.now())
    case.number = case_number_allocate(organization_id=organization.pk)
    case.save()
    audit.created(case)
    _notify_assignee(case, actor)
    publish.case_created(case_id=case.pk)
    return case


def _history_value(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@transaction.atomic
def case_update(
    *,
    case: Case,
    actor: User | None,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
    status: str | Unset = UNSET,
    priority: str | Unset = UNSET,
    category: CaseCategory | Unset | None = UNSET,
    assigned_agent: Agent | Unset | None = UNSET,
    contact: Contact | Unset | None = UNSET,
    source_call: Call | Unset | None = UNSET,
    due_at: datetime | Unset | None = UNSET,
) -> Case:
    """Change the fields passed, writing one CaseHistory row per field that changed.

    Status changes also move resolved_at / closed_at (not recorded separately: the
    status row's changed_at is that time). A new assignee is notified. Returns a fresh
    instance, re-read under a lock so concurrent edits record a true old value.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    passed = {
        "title": title.strip() if isinstance(title, str) else title,
        "description": description,
        "status": status,
        "priority": priority,
        "category": category,
        "assigned_agent": assigned_agent,
        "contact": contact,
        "source_call": source_call,
        "due_at": due_at,
    }
    changes: dict[str, tuple[Any, Any]] = {}
    for field in CASE_TRACKED_FIELDS:
        value = passed[field]
        if isinstance(value, Unset):
            continue
        # Related rows are compared by id, so unchanged ones are never fetched.
        old = getattr(case, f"{field}_id") if field in _RELATED_FIELDS else getattr(case, field)
        old, new = _history_value(old), _history_value(value)
        if old != new:
            changes[field] = (old, new)
            setattr(case, field, value)
    if not changes:
        return case
    _check_fields(case, tuple(field for field in _RELATED_FIELDS if field in changes))
    now = timezone.now()
    previous_status = changes["status"][0] if "status" in changes else case.status
    _apply_status_times(case, previous_status, now)
    if "due_at" in changes:
        case.overdue_at = None  # a new deadline can be missed, and told, again
    case.save()
    CaseHistory.objects.bulk_create(
        CaseHistory(
            organization_id=case.organization_id,
            case=case,
            field=field,
            old_value=old,
            new_value=new,
            changed_by=actor,
            changed_at=now,
        )
        for field, (old, new) in changes.items()
    )
    audit.record(
        action="update",
        organization_id=case.organization_id,
        obj=case,
        changes={field: list(pair) for field, pair in changes.items()},
    )
    if "assigned_agent" in changes:
        _notify_assignee(case, actor)
    return case


@transaction.atomic
def case_delete(*, case: Case) -> None:
    """Delete a case with its notes and history. Its number is not given out again."""
    audit.deleted(case)
    case.delete()


@transaction.atomic
def case_note_add(*, case: Case, author: User | None, body: str) -> CaseNote:
    if not body.strip():
        raise ApplicationError("This field may not be blank.", code="blank", field="body")
    note = CaseNote.objects.create(
        organization_id=case.organization_id, case=case, author=author, body=body
    )
    audit.created(note)
    return note
