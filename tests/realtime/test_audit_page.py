"""/audit/: admins read their organization's trail; nobody else does."""

from __future__ import annotations

import pytest
from django.test import Client

from contactcenter.services import audit
from tests.conftest import Floor

pytestmark = pytest.mark.django_db


def signed_in(member: object) -> Client:
    client = Client()
    client.force_login(member.user)  # type: ignore[attr-defined]
    return client


def test_admins_see_their_organizations_entries_only(floor_a: Floor, floor_b: Floor) -> None:
    audit.record(action="mine-zq", organization_id=floor_a.org.pk, object_type="crm.case")
    audit.record(action="theirs-zq", organization_id=floor_b.org.pk, object_type="crm.case")
    page = signed_in(floor_a.admin).get("/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "mine-zq" in html and "theirs-zq" not in html
    assert 'href="/audit/"' in html  # the admin's navigation has it
    wallboard = signed_in(floor_a.supervisor).get("/wallboard/").content.decode()
    assert 'href="/audit/"' not in wallboard


def test_others_are_refused(floor_a: Floor) -> None:
    assert signed_in(floor_a.supervisor).get("/audit/").status_code == 403
    assert signed_in(floor_a.agent_member).get("/audit/").status_code == 403
    anonymous = Client().get("/audit/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_filters_and_older_pages(floor_a: Floor) -> None:
    audit.record_many(
        [audit.Entry(action=f"bulk-{n:03d}", organization_id=floor_a.org.pk) for n in range(150)]
    )
    audit.record(action="other-zq", organization_id=floor_a.org.pk)
    client = signed_in(floor_a.admin)
    first = client.get("/audit/", {"action": "other-zq"}).content.decode()
    assert first.count('data-testid="audit-row"') == 1
    newest = client.get("/audit/").content.decode()
    assert newest.count('data-testid="audit-row"') == 100
    link = newest.split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    older = client.get(f"/audit/?{link}").content.decode()
    assert "bulk-000" in older and "bulk-149" not in older
    assert client.get("/audit/", {"since": "yesterday"}).status_code == 400
    assert client.get("/audit/", {"before": "x"}).status_code == 400
