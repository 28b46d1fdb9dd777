import pytest
from rest_framework.test import APIClient

from contactcenter.models import User
from tests.conftest import Floor, client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_jwt_obtain_and_refresh_then_list(floor_a: Floor) -> None:
    client = APIClient()
    username = floor_a.agent_member.user.username
    resp = client.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.content
    access, refresh = resp.json()["access"], resp.json()["refresh"]

    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": refresh})
    assert refreshed.status_code == 200
    assert refreshed.json()["access"]

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == username
    assert me.json()["role"] == "agent"
    assert me.json()["agent_id"] == floor_a.agent.pk
    assert me.json()["organization"]["id"] == floor_a.org.pk


def test_wrong_password_is_401_with_standard_body(floor_a: Floor) -> None:
    resp = APIClient().post(
        "/api/v1/auth/token/",
        {"username": floor_a.admin.user.username, "password": "nope"},
    )
    assert resp.status_code == 401
    body = resp.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "no_active_account"


def test_missing_credentials_field_errors(db: None) -> None:
    resp = APIClient().post("/api/v1/auth/token/", {"username": "x"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["type"] == "validation_error"
    assert {"attr": "password", "code": "required"}.items() <= body["errors"][0].items()


def test_unauthenticated_is_401(db: None) -> None:
    assert APIClient().get("/api/v1/agents/").status_code == 401


def test_garbage_bearer_token_is_401(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert client.get("/api/v1/agents/").status_code == 401


def test_user_without_membership_is_refused(db: None) -> None:
    user = User.objects.create_user(username="loner", password=PASSWORD)
    from contactcenter.models import Membership

    client = client_for(Membership(user=user))
    resp = client.get("/api/v1/agents/")
    assert resp.status_code == 403


def test_session_auth_works(floor_a: Floor) -> None:
    client = APIClient()
    assert client.login(username=floor_a.supervisor.user.username, password=PASSWORD)
    assert client.get("/api/v1/calls/").status_code == 200


def test_deactivated_user_loses_access(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    user = floor_a.agent_member.user
    user.is_active = False
    user.save()
    assert client.get("/api/v1/agents/").status_code == 401
