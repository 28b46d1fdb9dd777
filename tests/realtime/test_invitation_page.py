"""/invite/<token>/: the invited person chooses a password, once, and can then sign in.

The link puts its token in the session and redirects to /invite/accept/, where the form
and every refusal are: no answer that is logged or sends a Referer has the token."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from contactcenter.models import Agent, Invitation, Membership, User
from contactcenter.services.invitations import Issued, invitation_create, invitation_revoke
from tests.conftest import Floor
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-phrase-7"


def issue(floor: Floor, agent: Agent | None = None, **extra: Any) -> Issued:
    return invitation_create(
        organization=floor.org,
        email="nina@example.com",
        username="nina",
        role="agent",
        first_name="Nina",
        agent=agent,
        invited_by=floor.admin.user,
        base_url="http://testserver",
        **extra,
    )


ACCEPT = "/invite/accept/"


def path_of(issued: Issued) -> str:
    return issued.link.removeprefix("http://testserver")


def follow(client: Client, path: str) -> Any:
    """Open a link as a browser does: to /invite/accept/, with the token in the session."""
    response = client.get(path, follow=True)
    assert response.redirect_chain == [(ACCEPT, 302)]
    return response


def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def choose(client: Client, path: str, first: str = PASSWORD, second: str | None = None) -> Any:
    """Open the link (for the session and the CSRF cookie), then POST the form as a
    browser does. (A page that refuses the link has no form: the cookie then comes from
    the sign-in page.)"""
    follow(client, path)
    if "csrftoken" not in client.cookies:
        client.get("/login/")
    token = client.cookies["csrftoken"].value
    return client.post(
        ACCEPT,
        {"password1": first, "password2": first if second is None else second},
        HTTP_X_CSRFTOKEN=token,
    )


def test_the_link_sets_the_password_once_then_the_person_gets_a_jwt(floor_a: Floor) -> None:
    agent = make_agent(floor_a.org)
    issued = issue(floor_a, agent=agent)
    client = browser()

    page = follow(client, path_of(issued))
    assert page.status_code == 200
    assert b"nina" in page.content and floor_a.org.name.encode() in page.content
    assert page["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page["Cache-Control"]
    # A form with CSRF: a post from elsewhere (no token) is refused.
    assert client.post(ACCEPT, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 403

    assert choose(client, path_of(issued), PASSWORD, PASSWORD + "x").status_code == 400
    weak = choose(client, path_of(issued), "password1")
    assert weak.status_code == 400 and b"field-error" in weak.content
    assert not User.objects.filter(username="nina").exists()

    done = choose(client, path_of(issued))
    assert done.status_code == 200 and b"Your account is ready" in done.content
    user = User.objects.get(username="nina")
    assert (user.email, user.first_name) == ("nina@example.com", "Nina")
    membership = Membership.objects.get(user=user)
    assert (membership.organization_id, membership.role) == (floor_a.org.pk, "agent")
    agent.refresh_from_db()
    assert agent.user_id == user.pk
    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    assert invitation.accepted_at is not None and invitation.user_id == user.pk

    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"username": "nina", "password": PASSWORD})
    assert token.status_code == 200, token.content
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    me = api.get("/api/v1/me/").json()
    assert (me["username"], me["role"], me["agent_id"]) == ("nina", "agent", agent.pk)

    # Used: the link says so, and a second try changes nothing.
    again = follow(browser(), path_of(issued))
    assert again.status_code == 410 and b"already used" in again.content
    assert choose(browser(), path_of(issued), "another-long-phrase-42").status_code == 410
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert User.objects.filter(username="nina").count() == 1


def test_an_expired_link_is_refused(floor_a: Floor) -> None:
    issued = issue(floor_a)
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    page = follow(browser(), path_of(issued))
    assert page.status_code == 410 and b"expired" in page.content
    assert choose(browser(), path_of(issued)).status_code == 410
    assert not User.objects.filter(username="nina").exists()


def test_the_expiry_is_the_setting(floor_a: Floor, settings: Any) -> None:
    settings.INVITATION_MAX_AGE_HOURS = 5
    before = timezone.now()
    expires = issue(floor_a).invitation.expires_at
    assert before + timedelta(hours=5) <= expires <= timezone.now() + timedelta(hours=5)


def test_a_revoked_link_is_refused(floor_a: Floor) -> None:
    issued = issue(floor_a)
    invitation_revoke(invitation=issued.invitation)
    page = follow(browser(), path_of(issued))
    assert page.status_code == 410 and b"withdrawn" in page.content


def test_a_new_link_ends_the_old_one(floor_a: Floor) -> None:
    from contactcenter.services.invitations import invitation_resend

    old = issue(floor_a)
    new = invitation_resend(invitation=old.invitation, base_url="http://testserver")
    assert follow(browser(), path_of(old)).status_code == 404
    assert follow(browser(), path_of(new)).status_code == 200


def test_guessing_links_is_limited_per_address_like_signing_in(
    floor_a: Floor, settings: Any
) -> None:
    settings.SIGNIN_ADDRESS_FREE_FAILURES = 3
    issued = issue(floor_a)
    client = browser()
    for guess in [secrets.token_urlsafe(32) for _ in range(3)] + ["short"]:
        page = follow(client, f"/invite/{guess}/")
        assert page.status_code == 404 and b"not valid" in page.content
    # The address is locked now: even the right link waits, and says how long.
    locked = follow(client, path_of(issued))
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1
    # ... and so does signing in from there (one count for both).
    signin = APIClient().post(
        "/api/v1/auth/token/", {"username": floor_a.admin.user.username, "password": "x"}
    )
    assert signin.status_code == 429
    # Another address is not concerned.
    assert follow(Client(REMOTE_ADDR="192.0.2.7"), path_of(issued)).status_code == 200
    # Once the lock is over, the same browser goes on where it was (no need for the link).
    signin_keys = f"{settings.SIGNIN_KEY_PREFIX}:lock:a:127.0.0.1"
    from django.core.cache import cache

    cache.delete(signin_keys)
    assert client.get(ACCEPT).status_code == 200


def test_the_accept_page_without_a_link_says_where_to_start(floor_a: Floor) -> None:
    page = browser().get(ACCEPT)
    assert page.status_code == 404 and b"link of your invitation" in page.content


def test_no_logged_answer_carries_a_link_that_works(
    floor_a: Floor, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Django logs every 4xx with its path (django.request): a form error or a refusal
    # at /invite/<token>/ would put a working link in the log.
    issued = issue(floor_a)
    token = path_of(issued).split("/")[2]
    caplog.set_level(logging.INFO)
    client = browser()
    assert choose(client, path_of(issued), "password1").status_code == 400
    settings.SIGNIN_ADDRESS_FREE_FAILURES = 0
    follow(client, "/invite/" + secrets.token_urlsafe(32) + "/")
    assert follow(client, path_of(issued)).status_code == 429
    logged = [r.getMessage() for r in caplog.records]
    assert any("Bad Request: /invite/accept/" in line for line in logged), logged
    assert not any(token in line for line in logged)
