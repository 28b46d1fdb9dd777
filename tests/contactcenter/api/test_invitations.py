"""Invitations over REST: admins of an organization invite, list, resend and revoke.

The e-mail (Django's locmem outbox) carries the one-time link; the link's page is
tests/realtime/test_invitation_page.py's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from contactcenter.models import Invitation, User
from tests.conftest import Floor, client_for
from tests.factories import make_member

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/invite/([A-Za-z0-9_-]{43})/")

Capture = Callable[..., Any]
# Committed as in a real request, so the e-mail (sent after commit) went out before the
# answer, which says whether it did.
COMMITTED = pytest.mark.django_db(transaction=True)


def invite(floor: Floor, capture: Capture, **payload: Any) -> Any:
    body = {"email": "dana@example.com", "username": "dana", "role": "agent", **payload}
    with capture(execute=True):  # the e-mail goes out after commit
        return client_for(floor.admin).post("/api/v1/invitations/", body, format="json")


def link_in(message: Any) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


@COMMITTED
def test_admin_invites_by_email_with_a_one_time_link(
    floor_a: Floor, mailoutbox: list[Any], django_capture_on_commit_callbacks: Capture
) -> None:
    resp = invite(floor_a, django_capture_on_commit_callbacks, first_name="Dana", role="supervisor")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert (data["status"], data["role"], data["email_sent"], data["send_error"]) == (
        "pending",
        "supervisor",
        True,
        "",
    )
    assert data["invited_by"] == floor_a.admin.user_id
    # In the organization's namespace, as members an admin creates (contactcenter.api).
    assert data["username"] == f"dana@{floor_a.org.slug}"

    [message] = mailoutbox
    assert message.to == ["dana@example.com"]
    assert floor_a.org.name in message.subject
    assert f"dana@{floor_a.org.slug}" in message.body and "Supervisor" in message.body
    token = link_in(message)
    # The token is in the e-mail only: not in the answer, not in the database.
    assert token not in resp.content.decode()
    invitation = Invitation.objects.get(pk=data["id"])
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) for value in stored.values())
    # Nothing exists for the person until they use the link.
    assert not User.objects.filter(username__startswith="dana").exists()

    listed = client_for(floor_a.admin).get("/api/v1/invitations/").json()["results"]
    assert [(i["id"], i["status"]) for i in listed] == [(invitation.pk, "pending")]


@pytest.mark.parametrize("who", ["supervisor", "agent_member"])
def test_only_admins_see_and_send_invitations(
    floor_a: Floor, who: str, django_capture_on_commit_callbacks: Capture
) -> None:
    pending = invite(floor_a, django_capture_on_commit_callbacks).json()
    client = client_for(getattr(floor_a, who))
    assert client.get("/api/v1/invitations/").status_code == 403
    assert client.get(f"/api/v1/invitations/{pending['id']}/").status_code == 403
    body = {"email": "eve@example.com", "username": "eve", "role": "admin"}
    assert client.post("/api/v1/invitations/", body, format="json").status_code == 403
    for verb in ("revoke", "resend"):
        assert client.post(f"/api/v1/invitations/{pending['id']}/{verb}/").status_code == 403
    assert Invitation.objects.count() == 1


def test_invitations_stay_in_their_organization(
    floor_a: Floor, floor_b: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    theirs = invite(floor_a, django_capture_on_commit_callbacks).json()
    other = client_for(floor_b.admin)
    assert other.get("/api/v1/invitations/").json()["results"] == []
    assert other.get(f"/api/v1/invitations/{theirs['id']}/").status_code == 404
    assert other.post(f"/api/v1/invitations/{theirs['id']}/revoke/").status_code == 404
    assert other.post(f"/api/v1/invitations/{theirs['id']}/resend/").status_code == 404
    # Another organization's agent profile is "does not exist".
    body = {"email": "x@example.com", "username": "xavier", "role": "agent"}
    resp = other.post("/api/v1/invitations/", {**body, "agent": floor_a.agent.pk}, format="json")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "agent"
    assert Invitation.objects.get(pk=theirs["id"]).revoked_at is None


def test_clear_errors_for_a_taken_username_or_agent(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    make_member(floor_a.org, username=f"eve@{floor_a.org.slug}")
    resp = invite(floor_a, django_capture_on_commit_callbacks, username="eve")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "username"
    assert invite(floor_a, django_capture_on_commit_callbacks).status_code == 201
    offered = invite(floor_a, django_capture_on_commit_callbacks, email="other@example.com")
    assert offered.status_code == 400
    assert "already offered" in offered.json()["errors"][0]["detail"]
    Invitation.objects.all().delete()
    resp = invite(floor_a, django_capture_on_commit_callbacks, agent=floor_a.agent.pk)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "agent"
    resp = invite(floor_a, django_capture_on_commit_callbacks, role="owner", email="not-an-email")
    assert resp.status_code == 400
    assert {e["attr"] for e in resp.json()["errors"]} == {"role", "email"}
    assert not Invitation.objects.exists()


def test_inviting_the_same_address_again_replaces_the_first_link(
    floor_a: Floor, mailoutbox: list[Any], django_capture_on_commit_callbacks: Capture
) -> None:
    first = invite(floor_a, django_capture_on_commit_callbacks).json()
    second = invite(floor_a, django_capture_on_commit_callbacks, email="DANA@example.com").json()
    assert second["status"] == "pending"
    assert Invitation.objects.get(pk=first["id"]).revoked_at is not None
    assert len(mailoutbox) == 2 and link_in(mailoutbox[0]) != link_in(mailoutbox[1])


@COMMITTED
def test_revoke_and_resend(
    floor_a: Floor, mailoutbox: list[Any], django_capture_on_commit_callbacks: Capture
) -> None:
    pending = invite(floor_a, django_capture_on_commit_callbacks).json()
    admin = client_for(floor_a.admin)
    with django_capture_on_commit_callbacks(execute=True):
        resent = admin.post(f"/api/v1/invitations/{pending['id']}/resend/")
    assert resent.status_code == 200 and resent.json()["email_sent"]
    old, new = link_in(mailoutbox[0]), link_in(mailoutbox[1])
    assert old != new
    invitation = Invitation.objects.get(pk=pending["id"])
    assert invitation.token_hash == hashlib.sha256(new.encode()).hexdigest()

    revoked = admin.post(f"/api/v1/invitations/{pending['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = admin.post(f"/api/v1/invitations/{pending['id']}/resend/")
    assert again.status_code == 409
    assert len(mailoutbox) == 2


@COMMITTED
def test_an_email_that_could_not_be_sent_is_shown_and_can_be_sent_again(
    floor_a: Floor, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    resp = invite(floor_a, django_capture_on_commit_callbacks)
    assert resp.status_code == 201
    assert (resp.json()["email_sent"], resp.json()["status"]) == (False, "pending")
    assert "ConnectionRefusedError" in resp.json()["send_error"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        resent = client_for(floor_a.admin).post(f"/api/v1/invitations/{resp.json()['id']}/resend/")
    assert (resent.json()["email_sent"], resent.json()["send_error"]) == (True, "")


def test_the_link_uses_public_url_when_set(
    floor_a: Floor,
    settings: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Not the Host header of the request: the operator's address for the installation.
    settings.PUBLIC_URL = "https://cc.example.com"
    invite(floor_a, django_capture_on_commit_callbacks)
    assert re.search(r"https://cc\.example\.com/invite/[A-Za-z0-9_-]{43}/", mailoutbox[0].body)


def test_usernames_are_per_organization_and_say_nothing_of_others(
    floor_a: Floor, floor_b: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    # A user "dana" elsewhere (any organization, or created by the operator) and an
    # invitation of "dana" in A: B's admin invites a "dana" of their own, and learns
    # nothing about either.
    make_member(floor_a.org, username="dana")
    assert invite(floor_a, django_capture_on_commit_callbacks).status_code == 201
    resp = invite(floor_b, django_capture_on_commit_callbacks)
    assert resp.status_code == 201, resp.content
    assert resp.json()["username"] == f"dana@{floor_b.org.slug}"
