"""A refused token is answered with one error, in the API's one shape.

simplejwt puts a dict in its exceptions (``detail``, ``code`` and, when no token class
accepted the token, one message per class tried); flattened by the error format that
was five errors (``messages.0.token_class``...) for one garbage token.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from contactcenter.services.sessions import SIGNED_OUT, user_revoke_sessions
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["type"] == "client_error", body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "not.a.jwt",
        # Well formed, signed with another key.
        "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6MX0."
        "c2lnbmF0dXJlLW5vdC1vdXJz",
    ],
)
def test_a_garbage_bearer_token_gets_one_clear_error(db: None, token: str) -> None:
    answer = _bearer(token).get("/api/v1/contacts/")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert _only_error(answer.json()) == {
        "code": "token_not_valid",
        "detail": "The token is invalid or expired.",
        "attr": None,
    }


def test_a_garbage_refresh_token_gets_one_error(db: None) -> None:
    answer = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": "garbage"})
    assert answer.status_code == 401
    error = _only_error(answer.json())
    assert error["code"] == "token_not_valid"
    assert error["attr"] is None
    assert error["detail"]


def test_a_revoked_token_gets_one_error(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    user_revoke_sessions(user=floor_a.agent_member.user, reason=SIGNED_OUT)
    answer = client.get("/api/v1/contacts/")
    assert answer.status_code == 401
    assert _only_error(answer.json()) == {
        "code": "token_revoked",
        "detail": "The token was revoked: sign in again.",
        "attr": None,
    }


def test_the_token_of_a_deactivated_user_gets_one_error(floor_a: Floor) -> None:
    client = client_for(floor_a.agent_member)
    user = floor_a.agent_member.user
    # Straight in the table: the service that deactivates also revokes (another error).
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    answer = client.get("/api/v1/contacts/")
    assert answer.status_code == 401
    error = _only_error(answer.json())
    assert error["code"] == "user_inactive"
    assert error["attr"] is None
