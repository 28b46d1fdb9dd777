"""Usernames are global (one sign-in for everyone), so nothing an organization's admin
or an anonymous client is told may depend on another organization's usernames: members
an admin creates are named in the organization's namespace, and a failed sign-in reads
the same whether the account exists or not."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from contactcenter.models import User
from tests.conftest import Floor, client_for
from tests.factories import make_member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-pass-phrase-9"


def _create(floor: Floor, username: str) -> Any:
    payload = {"username": username, "password": NEW_PASSWORD, "role": "agent"}
    return client_for(floor.admin).post("/api/v1/members/", payload)


def test_another_organizations_usernames_cannot_be_probed(floor_a: Floor, floor_b: Floor) -> None:
    theirs = _create(floor_b, "carol").json()["username"]
    assert theirs == f"carol@{floor_b.org.slug}"
    make_member(floor_b.org, username="legacy-global-name")  # made by an operator
    for name in ("carol", theirs, "legacy-global-name", "never-used"):
        created = _create(floor_a, name)
        assert created.status_code == 201, (name, created.content)
        assert created.json()["username"].endswith(f"@{floor_a.org.slug}")
    # B's accounts are untouched.
    assert User.objects.filter(username=theirs, membership__organization=floor_b.org).exists()


def test_a_name_taken_in_the_organization_is_refused(floor_a: Floor) -> None:
    assert _create(floor_a, "dana").status_code == 201
    for again in ("dana", f"dana@{floor_a.org.slug}"):
        taken = _create(floor_a, again)
        assert taken.status_code == 400
        assert taken.json()["errors"][0]["attr"] == "username"


def test_the_member_signs_in_with_the_namespaced_name(floor_a: Floor) -> None:
    username = _create(floor_a, "erin").json()["username"]
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": NEW_PASSWORD}
    )
    assert answer.status_code == 200, answer.content


def test_a_failed_sign_in_reads_the_same_for_an_unknown_account(floor_a: Floor) -> None:
    known = floor_a.agent_member.user.username
    answers = []
    for username in (known, "nobody-by-this-name"):
        client = APIClient(REMOTE_ADDR="10.9.8.7")
        response = client.post("/api/v1/auth/token/", {"username": username, "password": "wrong"})
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1], answers
