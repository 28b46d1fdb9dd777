"""The browser pages: who is sent where, and what each refuses (realtime/views.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from contactcenter.enums import Role
from contactcenter.models import Membership, User
from tests.conftest import Floor, build_floor
from tests.factories import PASSWORD, make_member, make_org, make_queue

pytestmark = pytest.mark.django_db


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_login_page_renders_and_signs_an_agent_in_to_the_console(floor_a: Floor) -> None:
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'data-testid="login-form"' in page.content
    user = floor_a.agent_member.user
    answer = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert (answer.status_code, answer["Location"]) == (302, "/console/")
    assert "sessionid" in answer.cookies


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_land_on_the_wallboard(floor_a: Floor, role: str) -> None:
    user = getattr(floor_a, role).user
    answer = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert (answer.status_code, answer["Location"]) == (302, "/wallboard/")


def test_a_wrong_password_shows_the_error_and_signs_nobody_in(floor_a: Floor) -> None:
    client = Client()
    user = floor_a.agent_member.user
    page = client.post("/login/", {"username": user.username, "password": "wrong"})
    assert page.status_code == 200
    assert b'data-testid="login-error"' in page.content
    assert client.get("/console/")["Location"].startswith("/login/?next=/console/")


def test_login_honours_a_safe_next_and_ignores_a_foreign_one(floor_a: Floor) -> None:
    user = floor_a.supervisor.user
    form = {"username": user.username, "password": PASSWORD}
    answer = Client().post("/login/?next=/wallboard/%3Fqueue%3D1", form)
    assert answer["Location"] == "/wallboard/?queue=1"
    answer = Client().post("/login/", {**form, "next": "https://evil.example/"})
    assert answer["Location"] == "/wallboard/"


def test_landing_redirects_by_role(floor_a: Floor) -> None:
    assert Client().get("/")["Location"] == "/login/"
    assert signed_in(floor_a.agent_member).get("/")["Location"] == "/console/"
    assert signed_in(floor_a.supervisor).get("/")["Location"] == "/wallboard/"


def test_a_signed_in_user_visiting_login_goes_to_their_page(floor_a: Floor) -> None:
    assert signed_in(floor_a.agent_member).get("/login/")["Location"] == "/console/"


def test_logout_is_a_post_and_ends_the_session(floor_a: Floor) -> None:
    client = signed_in(floor_a.agent_member)
    assert client.get("/logout/").status_code == 405
    answer = client.post("/logout/")
    assert (answer.status_code, answer["Location"]) == (302, "/login/")
    assert client.get("/console/")["Location"].startswith("/login/")


def test_console_page_for_an_agent(floor_a: Floor) -> None:
    page = signed_in(floor_a.agent_member).get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-socket="/ws/agent/"' in html
    # The agent's notes drafts are kept under their own id (call-card.js).
    assert f'data-agent-id="{floor_a.agent.pk}"' in html
    assert "realtime/js/console.js" in html
    assert floor_a.agent.name in html


def test_console_sends_a_supervisor_without_agent_profile_to_the_wallboard(
    floor_a: Floor,
) -> None:
    assert signed_in(floor_a.supervisor).get("/console/")["Location"] == "/wallboard/"


def test_wallboard_sends_agents_to_their_console(floor_a: Floor) -> None:
    assert signed_in(floor_a.agent_member).get("/wallboard/")["Location"] == "/console/"


def test_supervisor_page_for_supervisors_and_admins_only(floor_a: Floor) -> None:
    for member in (floor_a.supervisor, floor_a.admin):
        page = signed_in(member).get("/supervisor/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-socket="/ws/supervisor/"' in html
        assert 'id="alerts"' in html
        assert f'data-user-id="{member.user.pk}"' in html
    assert signed_in(floor_a.agent_member).get("/supervisor/")["Location"] == "/console/"
    assert Client().get("/supervisor/")["Location"] == "/login/?next=/supervisor/"


def test_a_member_with_no_page_gets_a_clear_403(db: None) -> None:
    org = make_org()
    agent_without_profile = make_member(org, Role.AGENT)
    client = signed_in(agent_without_profile)
    for url in ("/", "/console/", "/wallboard/"):
        page = client.get(url)
        assert page.status_code == 403, url
        assert b"no console or wallboard" in page.content


def test_a_user_with_no_membership_gets_a_clear_403(db: None) -> None:
    user = User.objects.create_user(username="loner", password=PASSWORD)
    client = Client()
    client.force_login(user)
    assert client.get("/console/").status_code == 403


def test_wallboard_page_for_the_floor_and_for_one_queue(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    client = signed_in(floor_a.supervisor)
    assert 'data-socket="/ws/wallboard/"' in client.get("/wallboard/").content.decode()
    one = client.get(f"/wallboard/?queue={queue.pk}").content.decode()
    assert f'data-socket="/ws/wallboard/?queue={queue.pk}"' in one


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "١٢", "9" * 40])
def test_wallboard_refuses_a_queue_that_is_not_a_number(floor_a: Floor, raw: str) -> None:
    page = signed_in(floor_a.supervisor).get("/wallboard/", {"queue": raw})
    assert page.status_code == 400
    assert b"must be a queue id" in page.content


def test_wallboard_does_not_show_another_organizations_queue(
    floor_a: Floor, floor_b: Floor
) -> None:
    theirs = make_queue(floor_b.org)
    page = signed_in(floor_a.supervisor).get(f"/wallboard/?queue={theirs.pk}")
    assert page.status_code == 404
    assert f"There is no active queue {theirs.pk}".encode() in page.content


def test_static_files_are_served(floor_a: Floor, live_server: Any) -> None:
    import urllib.request

    for name in ("js/console.js", "js/wallboard.js", "js/live.js", "css/console.css"):
        with urllib.request.urlopen(f"{live_server.url}/static/realtime/{name}") as answer:
            assert answer.status == 200, name


def test_pages_are_separate_per_organization(db: None) -> None:
    a, b = build_floor("Northwind Desk"), build_floor("Globex Line")
    html = signed_in(b.agent_member).get("/console/").content.decode()
    assert b.org.name in html and a.org.name not in html
