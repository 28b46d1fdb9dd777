"""The demo contacts' past: calls on earlier days and the cases still open from them.

The live demo's callers are often the seeded contacts (telephony/demo.py), and a screen
pop shows a caller's record: who they are, their open cases, their last calls with this
agent. Without a past, every pop would be a name and two empty lists. These calls are
on earlier days of the organization's calendar, so today's wallboard figures are the
live calls' alone.

A few of these calls come with a recording to play (``RECORDED_CALLS``,
provisioning/demo_recordings.py).

Kept apart from ``seed_demo()`` on purpose: tests and benchmarks build their database
from that function and count the calls their PBX placed; the ``seed_demo`` command
(what a person runs) adds this past. Idempotent: a call is found by its external id
(``demo-history-<n>``), a case by its contact and title; nothing is changed once there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from contactcenter.enums import CallDirection, CallSource, CallStatus, HangupParty
from contactcenter.models import Agent, Call, CallDisposition, CallQueue
from crm.enums import CaseOrigin, CasePriority, CaseStatus
from crm.models import Case, CaseCategory, Contact
from crm.selectors.contacts import contact_lookup_by_phone
from crm.services.cases import case_create
from provisioning.demo import SeedResult
from provisioning.demo_recordings import seed_demo_recordings

HISTORY_PREFIX = "demo-history-"
DEMO_DID = "+15551230000"  # the simulated PBX's number (telephony/ami/simulator/directory.py)


@dataclass(frozen=True)
class PastCall:
    phone: str
    days_ago: int
    at: time  # the organization's local time
    queue: str
    agent: str | None  # extension; None: the caller gave up waiting
    wait: int
    talk: int = 0
    disposition: str | None = None


@dataclass(frozen=True)
class OpenCase:
    call: int  # index in PAST_CALLS of the call it came from
    title: str
    category: str | None
    priority: str = CasePriority.NORMAL
    status: str = CaseStatus.OPEN
    assignee: str | None = None  # extension; None: any agent may pick it up


PAST_CALLS = [
    PastCall("+15557654321", 2, time(10, 12), "support", "1001", 14, 262, "tech-issue"),
    PastCall("+15557654321", 9, time(15, 40), "support", "1002", 6, 184, "resolved"),
    PastCall("+15557654321", 16, time(11, 5), "support", None, 48),
    PastCall("+447700900123", 3, time(9, 31), "support", "1002", 22, 318, "billing"),
    PastCall("+447700900123", 12, time(14, 2), "sales", "1001", 9, 604, "sale"),
    PastCall("+15559876543", 1, time(16, 25), "support", "1003", 11, 151, "callback"),
    PastCall("+15559876500", 6, time(12, 48), "support", "1001", 4, 203, "resolved"),
    PastCall("+12125550147", 4, time(10, 55), "sales", "1001", 7, 423, "callback"),
    PastCall("+15551112222", 5, time(13, 17), "support", "1003", 31, 287, "complaint"),
    PastCall("+493012345678", 7, time(8, 44), "sales", "1003", 12, 362, "sale"),
    PastCall("+15552224444", 2, time(17, 3), "support", "1002", 5, 96, "resolved"),
    PastCall("+15553335555", 8, time(11, 21), "support", "1001", 17, 498, "tech-issue"),
    PastCall("+15553335555", 3, time(9, 58), "support", "1003", 8, 212, "callback"),
]
# Indexes in PAST_CALLS of the calls with a recording to play (provisioning.demo_recordings):
# two of alice's (one opened the router case) and bob's that opened the invoice case.
RECORDED_CALLS = (0, 3, 7)
OPEN_CASES = [
    OpenCase(0, "Router drops the connection every evening", "Connectivity", CasePriority.HIGH),
    OpenCase(3, "Invoice 2291 charged twice", "Billing", status=CaseStatus.PENDING),
    OpenCase(7, "Quote for 40 more seats", None, assignee="1001"),
    OpenCase(8, "Technician missed the appointment", "Complaints", CasePriority.HIGH),
    OpenCase(11, "Replacement handset not delivered", "Hardware"),
]


def _started_at(past: PastCall, zone: ZoneInfo, today: datetime) -> datetime:
    day = today.date() - timedelta(days=past.days_ago)
    return datetime.combine(day, past.at, tzinfo=zone)


def _call(
    org_id: int, n: int, past: PastCall, contact: Contact, started_at: datetime
) -> tuple[Call, bool]:
    agent = Agent.objects.get(organization_id=org_id, extension=past.agent) if past.agent else None
    queue = CallQueue.objects.get(organization_id=org_id, pbx_queue_name=past.queue)
    disposition = (
        CallDisposition.objects.get(organization_id=org_id, code=past.disposition)
        if past.disposition
        else None
    )
    queued_at = started_at + timedelta(seconds=2)
    left_queue = queued_at + timedelta(seconds=past.wait)
    answered_at = left_queue if agent else None
    ended_at = left_queue + timedelta(seconds=past.talk)
    return Call.objects.get_or_create(
        organization_id=org_id,
        source=CallSource.ASTERISK,
        external_id=f"{HISTORY_PREFIX}{n}",
        defaults={
            "direction": CallDirection.INBOUND,
            "status": CallStatus.COMPLETED if agent else CallStatus.ABANDONED,
            "caller_number": past.phone,
            "caller_name": contact.display_name.upper(),
            "callee_number": DEMO_DID,
            "queue": queue,
            "agent": agent,
            "contact": contact,
            "started_at": started_at,
            "queued_at": queued_at,
            "answered_at": answered_at,
            "abandoned_at": None if agent else left_queue,
            "ended_at": ended_at,
            "wait_seconds": past.wait,
            "talk_seconds": past.talk if agent else None,
            "hangup_by": HangupParty.CALLER if agent is None else HangupParty.AGENT,
            "disposition": disposition,
            "disposition_set_at": ended_at + timedelta(seconds=40) if disposition else None,
            "disposition_set_by": agent.user if agent and disposition else None,
        },
    )


def _case(org_id: int, spec: OpenCase, call: Call, contact: Contact) -> bool:
    if Case.objects.filter(organization_id=org_id, contact=contact, title=spec.title).exists():
        return False
    category = (
        CaseCategory.objects.filter(organization_id=org_id, name=spec.category).first()
        if spec.category
        else None
    )
    disposition = call.disposition
    by_disposition = disposition is not None and disposition.requires_case_creation
    assignee = (
        Agent.objects.get(organization_id=org_id, extension=spec.assignee)
        if spec.assignee
        else None
    )
    case = case_create(
        organization=call.organization,
        actor=None,
        title=spec.title,
        status=spec.status,
        priority=spec.priority,
        category=category,
        # Given below: assigned days ago, it is no news today. Through case_create the
        # assignee got a "case assigned" notification, and its e-mail was the first
        # thing a newcomer's ./scripts/run printed (the console mail backend).
        assigned_agent=None,
        contact=contact,
        source_call=call,
        due_at=None,
        origin=CaseOrigin.DISPOSITION if by_disposition else CaseOrigin.MANUAL,
        source_disposition=disposition if by_disposition else None,
    )
    # Opened when its call ended, days ago, as it would have been.
    assert call.ended_at is not None
    Case.objects.filter(pk=case.pk).update(
        created_at=call.ended_at + timedelta(minutes=1), assigned_agent=assignee
    )
    return True


def seed_demo_history(result: SeedResult) -> None:
    """Past calls and open cases of the demo contacts. Run inside a transaction, after
    ``seed_demo()`` (it needs the agents, queues, dispositions and contacts)."""
    org = result.organization
    zone = ZoneInfo(org.time_zone)
    today = timezone.localtime(timezone.now(), zone)
    calls: list[Call] = []
    contacts: list[Contact] = []
    for n, past in enumerate(PAST_CALLS):
        contact = contact_lookup_by_phone(organization=org, phone=past.phone).first()
        if contact is None:  # seed_demo() creates every contact that is missing
            raise LookupError(f"no demo contact with {past.phone}: run seed_demo() first")
        call, created = _call(org.pk, n, past, contact, _started_at(past, zone, today))
        result.count(created)
        calls.append(call)
        contacts.append(contact)
    for spec in OPEN_CASES:
        call = calls[spec.call]
        result.count(_case(org.pk, spec, call, contacts[spec.call]))
    for stored in seed_demo_recordings([calls[n] for n in RECORDED_CALLS]):
        result.count(stored)
