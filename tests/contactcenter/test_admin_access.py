"""The admin's edits that take access away end the user's sessions, tokens and sockets
(contactcenter/admin_access.py): a user or an organization deactivated, an agent
profile deactivated, on the admin's own change pages as an operator submits them.

Deactivating a user already makes Django refuse their tokens and session while it
lasts; what only the revocation does is keep them ended when the user or the
organization is made active again, and close the sockets they had open.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from contactcenter.models import Membership, User
from tests.conftest import Floor
from tests.contactcenter.signed import Signed

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """What the browser would submit from the page's change form, as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value") or "on")
            else:
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    return client


def _save(admin: Client, page: str, **changes: str | None) -> None:
    """Submit the change form at ``page`` with ``changes`` (None: a checkbox unticked)."""
    answer = admin.get(page)
    assert answer.status_code == 200, answer.status_code
    form = _Form()
    form.feed(answer.content.decode())
    data = {name: values if len(values) > 1 else values[0] for name, values in form.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    saved = admin.post(page, data)
    assert saved.status_code == 302, saved.content.decode()[:3000]


def _epoch(membership: Membership) -> int:
    return int(User.objects.values_list("auth_epoch", flat=True).get(pk=membership.user_id))


def test_a_user_deactivated_and_reactivated_in_the_admin_stays_signed_out(
    floor_a: Floor,
) -> None:
    signed = Signed(floor_a.agent_member)
    bystander = Signed(floor_a.supervisor)
    before = _epoch(floor_a.agent_member)
    admin = _operator()
    page = f"/admin/contactcenter/user/{floor_a.agent_member.user_id}/change/"
    _save(admin, page, is_active=None)
    assert not User.objects.get(pk=floor_a.agent_member.user_id).is_active
    assert _epoch(floor_a.agent_member) > before  # what closes the open sockets
    _save(admin, page, is_active="on")
    assert User.objects.get(pk=floor_a.agent_member.user_id).is_active
    signed.assert_all_ended()
    bystander.assert_all_hold()


def test_an_organization_deactivated_in_the_admin_signs_its_members_out(
    floor_a: Floor, floor_b: Floor
) -> None:
    members = [Signed(floor_a.agent_member), Signed(floor_a.admin)]
    elsewhere = Signed(floor_b.agent_member)
    admin = _operator()
    page = f"/admin/contactcenter/organization/{floor_a.org.pk}/change/"
    _save(admin, page, is_active=None)
    _save(admin, page, is_active="on")
    for signed in members:
        signed.assert_all_ended()
    elsewhere.assert_all_hold()


def test_an_agent_profile_deactivated_in_the_admin_signs_its_user_out(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    other = Signed(floor_a.supervisor)
    _save(_operator(), f"/admin/contactcenter/agent/{floor_a.agent.pk}/change/", is_active=None)
    signed.assert_all_ended()
    other.assert_all_hold()
