"""Tenant isolation on every REST endpoint.

For each resource a row of organization B is built; every role of organization A gets
404 on it (or 403 where the role may not use the resource at all), never sees it in a
list, and cannot change or delete it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db.models import Model
from django.utils import timezone

from contactcenter.models import AgentStateLog, CallDisposition, QueueMembership
from crm.models import Case, CaseCategory, CaseNote
from crm.services.contacts import contact_create
from crm.services.notifications import notification_create
from telephony.models import AsteriskConnection, TwilioAccount
from tests.conftest import Floor, client_for
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db


@dataclass
class Resource:
    url: str
    build: Callable[[Floor], Model]
    patch: dict[str, object]
    readers: tuple[str, ...] = ("admin", "supervisor", "agent")


def _case(floor: Floor) -> Case:
    return Case.objects.create(
        organization=floor.org, number=1, title="Broken router", assigned_agent=floor.agent
    )


def _note(floor: Floor) -> CaseNote:
    return CaseNote.objects.create(organization=floor.org, case=_case(floor), body="secret note")


RESOURCES = {
    "agents": Resource("agents", lambda f: f.agent, {"name": "hacked"}),
    "agent-state-log": Resource(
        "agent-state-log",
        lambda f: AgentStateLog.objects.create(
            organization=f.org, agent=f.agent, state="available", started_at=timezone.now()
        ),
        {},
    ),
    "queues": Resource("queues", lambda f: make_queue(f.org), {"name": "hacked"}),
    "queue-memberships": Resource(
        "queue-memberships",
        lambda f: QueueMembership.objects.create(
            organization=f.org, queue=make_queue(f.org), agent=f.agent
        ),
        {"penalty": 9},
    ),
    "dispositions": Resource(
        "dispositions",
        lambda f: CallDisposition.objects.create(organization=f.org, name="Sale", code="sale"),
        {"name": "hacked"},
    ),
    "calls": Resource("calls", lambda f: make_call(f.org, agent=f.agent), {"notes": "hacked"}),
    "members": Resource(
        "members", lambda f: f.supervisor, {"role": "agent"}, readers=("admin", "supervisor")
    ),
    "asterisk-connections": Resource(
        "asterisk-connections",
        lambda f: AsteriskConnection.objects.create(
            organization=f.org, name="pbx", host="10.1.1.1", username="u", secret="s"
        ),
        {"host": "evil"},
        readers=("admin",),
    ),
    "twilio-accounts": Resource(
        "twilio-accounts",
        lambda f: TwilioAccount.objects.create(
            organization=f.org, account_sid="AC" + "b" * 32, auth_token="t"
        ),
        {"is_enabled": False},
        readers=("admin",),
    ),
    "contacts": Resource(
        "contacts",
        lambda f: contact_create(
            organization=f.org, first_name="Bea", phones=[{"number": "+15550001111"}]
        ),
        {"first_name": "hacked"},
    ),
    "cases": Resource("cases", _case, {"title": "hacked"}),
    "case-categories": Resource(
        "case-categories",
        lambda f: CaseCategory.objects.create(organization=f.org, name="Billing"),
        {"name": "hacked"},
    ),
    "notifications": Resource(
        "notifications",
        lambda f: notification_create(
            organization_id=f.org.pk, user_id=f.agent_member.user_id, kind="system", title="Hi"
        ),
        {},
    ),
}


def _members(floor: Floor) -> dict[str, object]:
    return {"admin": floor.admin, "supervisor": floor.supervisor, "agent": floor.agent_member}


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_foreign_rows_are_invisible(name: str, floor_a: Floor, floor_b: Floor) -> None:
    resource = RESOURCES[name]
    foreign = resource.build(floor_b)
    url = f"/api/v1/{resource.url}/"
    for role, member in _members(floor_a).items():
        client = client_for(member)  # type: ignore[arg-type]
        listing = client.get(url, {"page_size": 500})
        detail = client.get(f"{url}{foreign.pk}/")
        if role not in resource.readers:
            assert listing.status_code == 403, (role, listing.content)
            assert detail.status_code == 403
            continue
        assert listing.status_code == 200, (role, listing.content)
        assert foreign.pk not in {row["id"] for row in listing.json()["results"]}, role
        assert detail.status_code == 404, (role, detail.content)
        changed = client.patch(f"{url}{foreign.pk}/", resource.patch, format="json")
        assert changed.status_code in (403, 404, 405), (role, changed.status_code)
        deleted = client.delete(f"{url}{foreign.pk}/")
        assert deleted.status_code in (403, 404, 405), (role, deleted.status_code)
    # Nothing of B's row moved.
    before = {f.attname: getattr(foreign, f.attname) for f in foreign._meta.concrete_fields}
    foreign.refresh_from_db()
    after = {f.attname: getattr(foreign, f.attname) for f in foreign._meta.concrete_fields}
    assert before == after


def test_foreign_case_notes_and_history_are_404(floor_a: Floor, floor_b: Floor) -> None:
    note = _note(floor_b)
    for member in _members(floor_a).values():
        client = client_for(member)  # type: ignore[arg-type]
        case_url = f"/api/v1/cases/{note.case_id}"
        assert client.get(f"{case_url}/notes/").status_code == 404
        assert client.post(f"{case_url}/notes/", {"body": "x"}).status_code == 404
        assert client.get(f"{case_url}/history/").status_code == 404
    assert CaseNote.objects.filter(case_id=note.case_id).count() == 1


def test_phone_lookup_does_not_cross_organizations(floor_a: Floor, floor_b: Floor) -> None:
    contact_create(organization=floor_b.org, first_name="Bea", phones=[{"number": "+15550001111"}])
    resp = client_for(floor_a.agent_member).get(
        "/api/v1/contacts/lookup/", {"phone": "+15550001111"}
    )
    assert resp.status_code == 200
    assert resp.json() == []


def test_foreign_ids_in_payloads_are_refused(floor_a: Floor, floor_b: Floor) -> None:
    foreign_contact = contact_create(organization=floor_b.org, first_name="Bea")
    foreign_category = CaseCategory.objects.create(organization=floor_b.org, name="Billing")
    client = client_for(floor_a.supervisor)
    for field, value in [
        ("contact", foreign_contact.pk),
        ("category", foreign_category.pk),
        ("assigned_agent", floor_b.agent.pk),
        ("source_call", make_call(floor_b.org).pk),
    ]:
        resp = client.post("/api/v1/cases/", {"title": "t", field: value})
        assert resp.status_code == 400, (field, resp.content)
        assert resp.json()["errors"][0]["attr"] == field
    assert not Case.objects.filter(organization=floor_a.org).exists()
