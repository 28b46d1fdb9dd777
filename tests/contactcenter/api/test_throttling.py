"""REST rate limits (contactcenter/api/throttling.py): per user, per organization, reads,
writes and exports apart, 429 with Retry-After; and the same buckets across two real
server processes sharing Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from rest_framework.test import APIClient

from config.ratelimits import Rate, parse_rate
from contactcenter.services.apikeys import api_key_create
from tests.conftest import Floor, client_for
from tests.realtime.servers import daphne, until_up

REDIS_URL = os.environ.get("REDIS_URL", "")


def _limits(settings: Any, *, read: int, write: int = 100, export: int = 100) -> None:
    settings.RATE_LIMITS = {
        "read": Rate(read, 60),
        "write": Rate(write, 60),
        "export": Rate(export, 3600),
    }
    settings.RATE_LIMITS_ORGANIZATION = {"read": None, "write": None, "export": None}


def _answers(client: APIClient, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


@pytest.mark.django_db
def test_a_user_over_the_read_limit_gets_429_with_retry_after(
    floor_a: Floor, settings: Any
) -> None:
    _limits(settings, read=3)
    client = client_for(floor_a.supervisor)
    assert _answers(client, "/api/v1/contacts/", 3) == [200, 200, 200]
    refused = client.get("/api/v1/calls/")  # every read endpoint counts in one bucket
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["code"] == "throttled"
    # Another member of the same organization has a bucket of their own.
    assert client_for(floor_a.admin).get("/api/v1/contacts/").status_code == 200


@pytest.mark.django_db
def test_each_api_key_has_its_own_bucket_apart_from_the_people(
    floor_a: Floor, settings: Any
) -> None:
    _limits(settings, read=2)
    first, second = (
        api_key_create(organization=floor_a.org, name=name).key for name in ("crm", "bi")
    )
    assert _answers(_key_client(first), "/api/v1/contacts/", 3) == [200, 200, 429]
    assert _answers(_key_client(second), "/api/v1/contacts/", 2) == [200, 200]
    assert _answers(client_for(floor_a.supervisor), "/api/v1/contacts/", 2) == [200, 200]


def _key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.mark.django_db
def test_reads_writes_and_exports_are_counted_apart(floor_a: Floor, settings: Any) -> None:
    _limits(settings, read=2, write=1, export=1)
    client = client_for(floor_a.supervisor)
    assert _answers(client, "/api/v1/contacts/", 2) == [200, 200]
    assert client.get("/api/v1/contacts/").status_code == 429
    assert client.post("/api/v1/contacts/", {"first_name": "Ada"}).status_code == 201
    assert client.post("/api/v1/contacts/", {"first_name": "Bob"}).status_code == 429
    assert client.get("/api/v1/calls/export.csv").status_code == 200
    assert client.get("/api/v1/cases/export.csv").status_code == 429


@pytest.mark.django_db
def test_the_organization_has_a_limit_of_its_own_and_others_are_untouched(
    floor_a: Floor, floor_b: Floor, settings: Any
) -> None:
    _limits(settings, read=100)
    settings.RATE_LIMITS_ORGANIZATION = {"read": Rate(4, 60), "write": None, "export": None}
    assert _answers(client_for(floor_a.supervisor), "/api/v1/contacts/", 2) == [200, 200]
    assert _answers(client_for(floor_a.admin), "/api/v1/contacts/", 3) == [200, 200, 429]
    assert _answers(client_for(floor_a.agent_member), "/api/v1/contacts/", 1) == [429]
    assert _answers(client_for(floor_b.admin), "/api/v1/contacts/", 4) == [200] * 4


@pytest.mark.django_db
def test_a_refused_caller_does_not_spend_the_organizations_share(
    floor_a: Floor, settings: Any
) -> None:
    _limits(settings, read=2)
    settings.RATE_LIMITS_ORGANIZATION = {"read": Rate(4, 60), "write": None, "export": None}
    assert _answers(client_for(floor_a.supervisor), "/api/v1/contacts/", 5) == [200] * 2 + [429] * 3
    assert _answers(client_for(floor_a.admin), "/api/v1/contacts/", 3) == [200, 200, 429]


@pytest.mark.django_db
def test_limits_can_be_turned_off(floor_a: Floor, settings: Any) -> None:
    _limits(settings, read=1)
    settings.RATE_LIMITS_ENABLED = False
    assert _answers(client_for(floor_a.supervisor), "/api/v1/contacts/", 3) == [200] * 3


@pytest.mark.django_db
def test_sign_in_keeps_its_own_limit(floor_a: Floor, settings: Any) -> None:
    # Anonymous requests are not counted here: the token endpoint has the "auth" scope.
    _limits(settings, read=1, write=1)
    client = APIClient()
    for _ in range(3):
        answer = client.post(
            "/api/v1/auth/token/", {"username": floor_a.admin.user.username, "password": "x"}
        )
        assert answer.status_code == 401


def test_rates_are_parsed_or_refused() -> None:
    assert parse_rate("600/minute", setting="X") == Rate(600, 60)
    assert parse_rate("5/seconds", setting="X") == Rate(5, 1)
    assert parse_rate("0", setting="X") is None
    for bad in ("ten/minute", "5/week", "-1/hour", "5"):
        with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_READ"):
            parse_rate(bad, setting="RATE_LIMIT_READ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
)
async def test_two_server_processes_count_into_one_bucket(tmp_path: Path) -> None:
    from asgiref.sync import sync_to_async
    from rest_framework_simplejwt.tokens import AccessToken

    from tests.conftest import build_floor

    floor = await sync_to_async(build_floor)("Org R")
    token = AccessToken.for_user(floor.supervisor.user)
    token["auth_epoch"] = floor.supervisor.user.auth_epoch
    headers = {"Authorization": f"Bearer {token}"}
    env = {
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"rl{uuid.uuid4().hex[:8]}",
        "RATE_LIMITS_KEY_PREFIX": f"test-rate:{uuid.uuid4().hex}",
        "RATE_LIMIT_READ": "6/minute",
    }
    with daphne(tmp_path, "daphne-a", **env) as a, daphne(tmp_path, "daphne-b", **env) as b:
        await asyncio.gather(until_up(a), until_up(b))
        async with aiohttp.ClientSession(headers=headers) as http:
            answers = []
            for server in (a, b, a, b, a, b, a, b):
                async with http.get(f"{server.base}/api/v1/contacts/") as resp:
                    answers.append((resp.status, resp.headers.get("Retry-After")))
        logs = f"\n--- a ---\n{a.log()}\n--- b ---\n{b.log()}"
    # Six reads in all, whichever process answered; then both refuse.
    assert [status for status, _ in answers] == [200] * 6 + [429, 429], logs
    assert all(1 <= int(wait or 0) <= 60 for _, wait in answers[6:]), (answers, logs)
