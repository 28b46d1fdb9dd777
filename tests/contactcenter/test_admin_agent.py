"""The admin's agent page keeps the SIP password write-only: a password input that
never renders the stored value; blank keeps it, a new one replaces it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from contactcenter.models import Agent, User
from tests.conftest import Floor

pytestmark = pytest.mark.django_db

SECRET = "s1p-pa55-never-shown"


@pytest.fixture
def agent(floor_a: Floor) -> Agent:
    floor_a.agent.sip_username = "agent1013"
    floor_a.agent.sip_password = SECRET
    floor_a.agent.save(update_fields=["sip_username", "sip_password"])
    return floor_a.agent


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _superuser() -> Client:
    return _signed_in(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))


def _page(agent: Agent) -> str:
    return f"/admin/contactcenter/agent/{agent.pk}/change/"


def _post_data(response: Any, **changes: str) -> dict[str, Any]:
    """The change form as the browser would submit it, with ``changes``."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if name == "state_changed_at":
            data[f"{name}_0"], data[f"{name}_1"] = (
                ("", "")
                if value is None
                else (
                    value.date().isoformat(),
                    value.time().isoformat(),
                )
            )
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    return {**data, **changes}


def test_the_change_page_never_shows_the_sip_password(agent: Agent) -> None:
    response = _superuser().get(_page(agent))
    assert response.status_code == 200
    assert SECRET.encode() not in response.content
    assert b'type="password" name="sip_password"' in response.content


def test_blank_keeps_the_password_and_a_new_one_replaces_it(agent: Agent) -> None:
    client = _superuser()
    page = client.get(_page(agent))
    response = client.post(_page(agent), _post_data(page, name="Renamed", sip_password=""))
    assert response.status_code == 302, response.context["adminform"].form.errors
    agent.refresh_from_db()
    assert (agent.name, agent.sip_password) == ("Renamed", SECRET)

    response = client.post(_page(agent), _post_data(page, sip_password="n3w-s1p"))
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.sip_password == "n3w-s1p"


def test_staff_who_may_only_view_agents_do_not_see_it(agent: Agent) -> None:
    viewer = User.objects.create_user("viewer", "viewer@example.com", "pw-9f3k2", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    response = _signed_in(viewer).get(_page(agent))
    assert response.status_code == 200
    assert SECRET.encode() not in response.content
    assert b"sip_password" not in response.content
