"""What the CRM does when a call gets a disposition: the organization's rules.

A disposition that requires a case opens one for the call (linked to the call and its
contact, created for an unknown caller; the disposition's category and priority; the
call's notes as description; assigned to the agent). One that requires a follow-up
schedules one for the agent. This runs in a Celery task queued after the disposition
commits (crm.tasks.call_disposition_apply), so it may run twice, or race a second
delivery: the call row is locked while the rules run, and the database allows one
disposition case and one follow-up per call (crm.models constraints).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter.enums import CallDirection
from contactcenter.models import Agent, Call, CallDisposition
from contactcenter.phones import phone_try_normalize
from contactcenter.services import audit
from crm.enums import CaseOrigin, NotificationKind
from crm.models import Case, CaseHistory, Contact, FollowUp
from crm.selectors.sla import follow_up_due_at
from crm.services.cases import case_create
from crm.services.contacts import contact_create
from crm.services.notifications import user_notify

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FollowThrough:
    """What one run of the rules did (for the task's log and the tests)."""

    case_id: int | None = None
    case_created: bool = False
    follow_up_id: int | None = None
    follow_up_created: bool = False
    skipped: str = ""


def call_disposition_rules_schedule(*, call_id: int, disposition_id: int | None) -> None:
    """After commit: the ``crm.call_disposition_apply`` task for this call and disposition."""
    # A lambda, not a partial: Django names the callback (__qualname__) when it fails.
    transaction.on_commit(lambda: _enqueue(call_id, disposition_id), robust=True)


def _enqueue(call_id: int, disposition_id: int | None) -> None:
    from crm.tasks import call_disposition_apply as task

    task.delay(call_id, disposition_id)


@transaction.atomic
def call_disposition_apply(*, call_id: int, disposition_id: int | None) -> FollowThrough:
    """Run the rules of the call's disposition ``disposition_id``; idempotent.

    A run for a disposition the call no longer has does nothing (the change queued its
    own run). A call that already has its disposition case gets a history row when its
    disposition changed, never a second case. After commit: ``case.created`` and the
    notifications of the case and follow-up services.
    """
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("organization", "disposition", "agent", "disposition_set_by")
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        return FollowThrough(skipped="the call no longer exists")
    if call.disposition_id != disposition_id:
        return FollowThrough(skipped="the call's disposition changed since")
    disposition = call.disposition
    # A case in the trash is still the call's case: the rules never open a second one.
    case = Case.all_objects.filter(source_call=call, origin=CaseOrigin.DISPOSITION).first()
    created = False
    if case is not None:
        _record_disposition_change(case, call)
    elif disposition is not None and disposition.requires_case_creation:
        case, created = _open_case(call, disposition)
    follow_up, scheduled = None, False
    if disposition is not None and disposition.requires_follow_up:
        follow_up, scheduled = _schedule_follow_up(call, disposition, case)
    return FollowThrough(
        case_id=case.pk if case else None,
        case_created=created,
        follow_up_id=follow_up.pk if follow_up else None,
        follow_up_created=scheduled,
    )


def _agent_of(call: Call) -> Agent | None:
    """Who handled the call; else the member who set the disposition, if an agent."""
    if call.agent is not None:
        return call.agent
    user = call.disposition_set_by
    if user is None:
        return None
    return Agent.objects.for_organization(call.organization_id).filter(user=user).first()


def _customer_number(call: Call) -> str:
    return call.callee_number if call.direction == CallDirection.OUTBOUND else call.caller_number


def _contact_of(call: Call) -> Contact | None:
    """The call's contact; else the first with the customer's number; else a new one.

    An anonymous or garbled caller ID gets no contact (nothing to find them by); a
    contact in the trash is not one (a new one is made rather than a link to it).
    """
    if call.contact is not None and call.contact.deleted_at is None:
        return call.contact
    number = phone_try_normalize(_customer_number(call), region=call.organization.default_region)
    if number is None:
        return None
    known = (
        Contact.objects.for_organization(call.organization_id)
        .filter(phones__number=number)
        .order_by("pk")
        .first()
    )
    if known is not None:
        return known
    inbound = call.direction != CallDirection.OUTBOUND
    return contact_create(
        organization=call.organization,
        first_name=call.caller_name.strip()[:100] if inbound else "",
        phones=[{"number": number}],
    )


def _open_case(call: Call, disposition: CallDisposition) -> tuple[Case, bool]:
    contact = _contact_of(call)
    category = disposition.default_case_category
    if category is not None and category.organization_id != call.organization_id:
        category = None  # a misconfigured disposition must not block the case
    who = contact.display_name if contact is not None else _customer_number(call) or "unknown"
    try:
        # A savepoint: should the constraint refuse (a run that did not hold the call's
        # lock), the transaction goes on with the case that won.
        with transaction.atomic():
            case = case_create(
                organization=call.organization,
                actor=call.disposition_set_by,
                title=f"{disposition.name}: {who}"[:300],
                description=call.notes,
                priority=disposition.default_case_priority,
                category=category,
                assigned_agent=_agent_of(call),
                contact=contact,
                source_call=call,
                origin=CaseOrigin.DISPOSITION,
                source_disposition=disposition,
            )
    except IntegrityError:
        existing = Case.all_objects.get(source_call=call, origin=CaseOrigin.DISPOSITION)
        return existing, False
    return case, True


def _record_disposition_change(case: Case, call: Call) -> None:
    """The call's disposition is no longer the one the case follows: say so in its history."""
    if case.source_disposition_id == call.disposition_id:
        return  # the same run again (a task delivered twice)
    old = case.source_disposition  # None when the case followed no disposition
    CaseHistory.objects.create(
        organization_id=case.organization_id,
        case=case,
        field="disposition",
        old_value=old.code if old else None,
        new_value=call.disposition.code if call.disposition else None,
        changed_by=call.disposition_set_by,
        changed_at=call.disposition_set_at or timezone.now(),
    )
    case.source_disposition = call.disposition
    case.save(update_fields=["source_disposition", "updated_at"])
    audit.record(
        action="update",
        organization_id=case.organization_id,
        obj=case,
        changes={"source_disposition": [old.pk if old else None, call.disposition_id]},
    )


def _schedule_follow_up(
    call: Call, disposition: CallDisposition, case: Case | None
) -> tuple[FollowUp, bool]:
    agent = _agent_of(call)
    # get_or_create falls back to reading the row when the constraint refuses a second.
    follow_up, created = FollowUp.objects.get_or_create(
        source_call=call,
        defaults={
            "organization_id": call.organization_id,
            "agent": agent,
            "contact": case.contact if case is not None else _contact_of(call),
            "case": case,
            "disposition": disposition,
            "due_at": follow_up_due_at(organization=call.organization, start=timezone.now()),
            "note": call.notes,
        },
    )
    if created:
        audit.created(follow_up)
    if created and agent is not None and agent.user_id is not None:
        user_notify(
            organization_id=call.organization_id,
            user_id=agent.user_id,
            kind=NotificationKind.FOLLOW_UP_SCHEDULED,
            title=f"Follow-up: {disposition.name}",
            body=call.notes[:500],
            data={"follow_up_id": follow_up.pk, "call_id": call.pk, "case_id": follow_up.case_id},
        )
    return follow_up, created
