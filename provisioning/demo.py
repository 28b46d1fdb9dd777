"""The demo organization: what ``seed_demo`` creates and the README documents.

Agents, extensions and queues match the AMI simulator's PBX and the transcripts in
tests/telephony/transcripts (PJSIP/1001-1003 in ``support``, 1001 also in ``sales``; the
live demo's PBX has 1003 in ``sales`` too, telephony/demo.py, and the bridge records
that membership when it reads the PBX's queues), so simulated calls land on these
records. The demo's callers are often these contacts (``demo_callers``), and
``provisioning.demo_history`` gives them past calls and open cases, so screen pops show
a customer's record. Everything is found by its natural key first: running it again
changes nothing but the demo passwords, which are reset to DEMO_PASSWORD.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from contactcenter.enums import QueueStrategy, Role
from contactcenter.models import (
    Agent,
    CallDisposition,
    CallQueue,
    Membership,
    Organization,
    QueueMembership,
    User,
)
from contactcenter.services.organizations import agent_create, member_create, organization_create
from crm.enums import CasePriority
from crm.models import CaseCategory
from crm.selectors.contacts import contact_lookup_by_phone
from crm.services.categories import case_category_create
from crm.services.contacts import contact_create

DEMO_PASSWORD = "demo-pass-2026"
DEMO_ORG_SLUG = "acme"

# The supervisor's phone: in no queue, it lets them listen to, whisper to and barge in
# on calls (the live demo's PBX has it, telephony/demo.py). Not 2001: the recorded
# transcripts' organization is this demo's, and their 2001 is a reception phone that is
# no agent (tests/telephony/transcripts/README.md, transcript 16).
SUPERVISOR_EXTENSION = "2201"
# username, role, first name, last name, extension (their phone, if any)
USERS: list[tuple[str, str, str, str, str | None]] = [
    ("admin", Role.ADMIN, "Ada", "Admin", None),
    ("supervisor", Role.SUPERVISOR, "Sam", "Super", SUPERVISOR_EXTENSION),
    ("alice", Role.AGENT, "Alice", "Smith", "1001"),
    ("bob", Role.AGENT, "Bob", "Jones", "1002"),
    ("carol", Role.AGENT, "Carol", "White", "1003"),
]
# name, pbx queue, strategy, service level seconds, member extensions
QUEUES = [
    ("Support", "support", QueueStrategy.RRMEMORY, 20, ["1001", "1002", "1003"]),
    ("Sales", "sales", QueueStrategy.RINGALL, 30, ["1001"]),
]
# category, children
CATEGORIES = [("Billing", []), ("Technical", ["Connectivity", "Hardware"]), ("Complaints", [])]
# code, name, category, follow-up, create case, case category, priority
DISPOSITIONS = [
    ("resolved", "Resolved on call", "support", False, False, None, CasePriority.NORMAL),
    ("callback", "Callback requested", "support", True, False, None, CasePriority.NORMAL),
    ("tech-issue", "Technical issue", "support", False, True, "Connectivity", CasePriority.NORMAL),
    ("complaint", "Complaint", "support", True, True, "Complaints", CasePriority.HIGH),
    ("billing", "Billing question", "billing", False, True, "Billing", CasePriority.LOW),
    ("sale", "Sale closed", "sales", False, False, None, CasePriority.NORMAL),
    ("wrong-number", "Wrong number", "other", False, False, None, CasePriority.LOW),
]
# first, last, company, email, phones, tags
CONTACTS = [
    ("John", "Smith", "", "john.smith@example.com", ["+15557654321"], ["vip"]),
    ("", "", "ACME LTD", "accounts@acme-ltd.example", ["+447700900123"], ["b2b"]),
    ("Maria", "Garcia", "", "maria@example.net", ["+15559876543", "+15559876500"], []),
    ("Wei", "Chen", "Chen Logistics", "wei@chenlogistics.example", ["+12125550147"], ["b2b"]),
    ("Priya", "Patel", "", "priya.patel@example.org", ["+15551112222"], []),
    ("Lukas", "Becker", "Becker GmbH", "lukas@becker-gmbh.example", ["+493012345678"], ["b2b"]),
    ("Olivia", "Brown", "", "olivia.brown@example.com", ["+15552224444"], []),
    ("Tomás", "Ruiz", "", "tomas.ruiz@example.net", ["+15553335555"], ["vip"]),
]


def demo_callers() -> tuple[tuple[str, str], ...]:
    """Every seeded contact's phone, with the caller ID name a carrier would send
    (plain upper-case ASCII, as CNAM): the numbers the live demo's known customers
    call from."""
    callers: list[tuple[str, str]] = []
    for first, last, company, _, phones, _ in CONTACTS:
        name = f"{first} {last}".strip() or company
        cnam = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
        callers += [(phone, cnam) for phone in phones]
    return tuple(callers)


@dataclass
class SeedResult:
    organization: Organization
    logins: list[tuple[str, str]] = field(default_factory=list)
    created: int = 0
    existing: int = 0

    def count(self, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.existing += 1


def _organization(result: SeedResult) -> Organization:
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    result.count(org is None)
    return org or organization_create(
        name="Acme Support", slug=DEMO_ORG_SLUG, time_zone="America/New_York", default_region="US"
    )


def _users(org: Organization, result: SeedResult) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, role, first, last, extension in USERS:
        membership = Membership.objects.filter(user__username=username).first()
        result.count(membership is None)
        if membership is None:
            membership = member_create(
                organization=org,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@acme.example",
            )
        else:
            membership.user.set_password(DEMO_PASSWORD)
            membership.user.save(update_fields=["password"])
        users[username] = membership.user
        result.logins.append((username, role))
        if extension:
            agent = Agent.objects.for_organization(org).filter(extension=extension).first()
            result.count(agent is None)
            if agent is None:
                agent_create(
                    organization=org,
                    name=f"{first} {last}",
                    extension=extension,
                    user=membership.user,
                )
    return users


def _queues(org: Organization, result: SeedResult) -> None:
    agents = {a.extension: a for a in Agent.objects.for_organization(org)}
    for name, pbx_name, strategy, sl, members in QUEUES:
        queue, created = CallQueue.objects.get_or_create(
            organization=org,
            pbx_queue_name=pbx_name,
            defaults={"name": name, "strategy": strategy, "service_level_seconds": sl},
        )
        result.count(created)
        for extension in members:
            _, created = QueueMembership.objects.get_or_create(
                organization=org, queue=queue, agent=agents[extension]
            )
            result.count(created)


def _categories(org: Organization, result: SeedResult) -> dict[str, CaseCategory]:
    found: dict[str, CaseCategory] = {}
    for name, children in CATEGORIES:
        parent = CaseCategory.objects.for_organization(org).filter(name=name, parent=None).first()
        result.count(parent is None)
        parent = parent or case_category_create(organization=org, name=name)
        found[name] = parent
        for child_name in children:
            child = (
                CaseCategory.objects.for_organization(org)
                .filter(name=child_name, parent=parent)
                .first()
            )
            result.count(child is None)
            found[child_name] = child or case_category_create(
                organization=org, name=child_name, parent=parent
            )
    return found


def _dispositions(
    org: Organization, categories: dict[str, CaseCategory], result: SeedResult
) -> None:
    for code, name, category, follow_up, create_case, case_category, priority in DISPOSITIONS:
        _, created = CallDisposition.objects.get_or_create(
            organization=org,
            code=code,
            defaults={
                "name": name,
                "category": category,
                "requires_follow_up": follow_up,
                "requires_case_creation": create_case,
                "default_case_category": categories.get(case_category or ""),
                "default_case_priority": priority,
            },
        )
        result.count(created)


def _contacts(org: Organization, result: SeedResult) -> None:
    for first, last, company, email, phones, tags in CONTACTS:
        exists = contact_lookup_by_phone(organization=org, phone=phones[0]).exists()
        result.count(not exists)
        if not exists:
            contact_create(
                organization=org,
                first_name=first,
                last_name=last,
                company=company,
                email=email,
                tags=tags,
                phones=[{"number": p, "label": "mobile"} for p in phones],
            )


def seed_demo() -> SeedResult:
    """Create or complete the demo organization. Run inside a transaction."""
    result = SeedResult(organization=Organization())
    org = _organization(result)
    result.organization = org
    _users(org, result)
    _queues(org, result)
    categories = _categories(org, result)
    _dispositions(org, categories, result)
    _contacts(org, result)
    return result
