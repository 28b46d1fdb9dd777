"""A legal hold on a case, over REST: supervisors and admins of its organization."""

from __future__ import annotations

import pytest

from contactcenter.models import AuditEntry
from tests.conftest import Floor, client_for
from tests.crm.factories import make_case

pytestmark = pytest.mark.django_db


def test_supervisors_put_a_case_under_legal_hold_over_rest(floor_a: Floor, floor_b: Floor) -> None:
    case = make_case(floor_a.org, title="Dispute")
    url = f"/api/v1/cases/{case.pk}/legal-hold/"
    assert client_for(floor_a.agent_member).post(url, {"held": True}).status_code == 403
    assert client_for(floor_b.supervisor).post(url, {"held": True}).status_code == 404
    held = client_for(floor_a.supervisor).post(url, {"held": True}, format="json")
    assert held.status_code == 200, held.content
    assert held.json()["legal_hold"] is True
    entry = AuditEntry.objects.get(action="legal_hold", object_id=str(case.pk))
    assert (entry.actor_user_id, entry.changes) == (
        floor_a.supervisor.user_id,
        {"legal_hold": [False, True]},
    )
    lifted = client_for(floor_a.admin).post(url, {"held": False}, format="json")
    assert lifted.json()["legal_hold"] is False
