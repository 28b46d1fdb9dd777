from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from contactcenter.models import (
    Agent,
    Call,
    CallDisposition,
    CallQueue,
    Membership,
    Organization,
    QueueMembership,
)
from crm.enums import CaseStatus
from crm.models import Case, CaseCategory, Contact, ContactPhone
from crm.selectors.contacts import contact_lookup_by_phone
from provisioning.demo import CONTACTS, DEMO_PASSWORD, SUPERVISOR_EXTENSION, demo_callers
from provisioning.demo_history import HISTORY_PREFIX, OPEN_CASES, PAST_CALLS

pytestmark = pytest.mark.django_db

MODELS = [
    Membership,
    Agent,
    CallQueue,
    QueueMembership,
    CallDisposition,
    CaseCategory,
    Contact,
    ContactPhone,
    Call,
    Case,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent_and_complete() -> None:
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    # Three agents, and the supervisor's phone (for listening in), in no queue.
    assert first["Agent"] == 4
    assert first["Contact"] == len(CONTACTS) >= 8
    assert set(Agent.objects.values_list("interface", flat=True)) == {
        "PJSIP/1001",
        "PJSIP/1002",
        "PJSIP/1003",
        "PJSIP/2201",
    }
    supervisor = Agent.objects.get(user__username="supervisor")
    assert supervisor.extension == SUPERVISOR_EXTENSION == "2201"
    assert not supervisor.queue_memberships.exists()
    alice = Membership.objects.get(user__username="alice")
    assert alice.user.check_password(DEMO_PASSWORD)
    assert alice.user.agent.extension == "1001"
    assert CallDisposition.objects.filter(requires_case_creation=True).count() >= 2
    assert ContactPhone.objects.filter(number="+15557654321").exists()


def test_every_demo_caller_is_a_seeded_contact() -> None:
    call_command("seed_demo")
    org = Organization.objects.get(slug="acme")
    callers = demo_callers()
    assert len(callers) == sum(len(phones) for *_, phones, _ in CONTACTS)
    for number, name in callers:
        assert contact_lookup_by_phone(organization=org, phone=number).count() == 1, number
        assert name and name.isascii() and name == name.upper()


def test_seeded_contacts_have_past_calls_and_open_cases_on_earlier_days() -> None:
    call_command("seed_demo")
    org = Organization.objects.get(slug="acme")
    history = Call.objects.filter(external_id__startswith=HISTORY_PREFIX)
    assert history.count() == len(PAST_CALLS)
    # Earlier days of the organization's calendar: today's wallboard is the live calls'.
    today = timezone.localdate(timezone.now(), ZoneInfo(org.time_zone))
    assert all(
        timezone.localtime(c.started_at, ZoneInfo(org.time_zone)).date() < today for c in history
    )
    assert all(c.ended_at and c.contact_id for c in history)
    answered = history.exclude(agent=None)
    assert answered.filter(answered_at__isnull=False).count() == answered.count() > 0
    assert history.filter(agent=None, status="abandoned").exists()

    open_cases = Case.objects.filter(status__in=[CaseStatus.OPEN, CaseStatus.PENDING])
    assert open_cases.count() == len(OPEN_CASES)
    with_cases = {case.contact_id for case in open_cases}
    with_calls = set(history.values_list("contact_id", flat=True))
    assert len(with_cases) >= 4 and with_cases <= with_calls
    # The share of callers who are contacts: most have a past, many an open case.
    assert len(with_calls) >= len(CONTACTS) - 1
    for case in open_cases:
        assert case.source_call is not None and case.created_at > case.source_call.started_at
    # Every known caller a pop would find has history behind their number.
    numbers = {number for number, _ in demo_callers()}
    assert {c.caller_number for c in history} <= numbers
