"""An organization's audit trail as the /audit/ page reads it (selectors/audit.py)."""

from __future__ import annotations

import pytest

from contactcenter.selectors.audit import audit_entry_list
from contactcenter.services import audit
from tests.conftest import Floor

pytestmark = pytest.mark.django_db


def test_the_organizations_entries_newest_first_and_older_than_an_id(
    floor_a: Floor, floor_b: Floor
) -> None:
    for n in range(3):
        audit.record(action=f"mine-{n}", organization_id=floor_a.org.pk)
    audit.record(action="theirs", organization_id=floor_b.org.pk)

    def actions(before: int | None = None) -> list[str]:
        entries = audit_entry_list(organization_id=floor_a.org.pk, before=before)
        return [e.action for e in entries if e.action.startswith(("mine", "theirs"))]

    assert actions() == ["mine-2", "mine-1", "mine-0"]
    newest = audit_entry_list(organization_id=floor_a.org.pk).filter(action="mine-1").get()
    assert actions(before=newest.pk) == ["mine-0"]
