"""/calls/: the organization's calls for its supervisors and admins (the rows and the
recordings come over REST, authorized there); agents are sent to their console."""

from __future__ import annotations

import pytest
from django.test import Client

from contactcenter.models import Membership
from tests.conftest import Floor
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def signed_in(member: Membership) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_supervisors_and_admins_have_the_page_and_its_link(floor_a: Floor) -> None:
    for member in (floor_a.supervisor, floor_a.admin):
        page = signed_in(member).get("/calls/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="calls-list"' in html and "realtime/js/calls-page.js" in html
        assert 'data-testid="nav-calls"' in html
    console = signed_in(floor_a.agent_member).get("/console/").content.decode()
    assert 'data-testid="nav-calls"' not in console


def test_agents_go_to_their_console_and_others_are_refused(floor_a: Floor) -> None:
    agent = signed_in(floor_a.agent_member).get("/calls/")
    assert agent.status_code == 302 and agent["Location"] == "/console/"
    no_agent_profile = make_member(floor_a.org)  # the agent role, no agent profile
    assert signed_in(no_agent_profile).get("/calls/").status_code == 403
    anonymous = Client().get("/calls/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert signed_in(floor_a.supervisor).post("/calls/").status_code == 405
