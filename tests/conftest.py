from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from contactcenter.enums import Role
from contactcenter.models import Agent, Membership, Organization
from tests.factories import make_agent, make_member, make_org


def admin_session(dbname: str | None = None) -> psycopg.Connection[Any]:
    """A session of its own on the test database's server (``dbname``: the test database
    itself), in autocommit: to act on the sessions under test from outside them."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname or db["NAME"],
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


@dataclass
class Floor:
    """One organization with a member of each role; the agent member has an Agent."""

    org: Organization
    admin: Membership
    supervisor: Membership
    agent_member: Membership
    agent: Agent
    other_agent: Agent


def build_floor(name: str) -> Floor:
    org = make_org(name)
    agent_member = make_member(org, Role.AGENT)
    other_member = make_member(org, Role.AGENT)
    return Floor(
        org=org,
        admin=make_member(org, Role.ADMIN),
        supervisor=make_member(org, Role.SUPERVISOR),
        agent_member=agent_member,
        agent=make_agent(org, agent_member),
        other_agent=make_agent(org, other_member),
    )


@pytest.fixture
def floor_a(db: None) -> Floor:
    return build_floor("Org A")


@pytest.fixture
def floor_b(db: None) -> Floor:
    return build_floor("Org B")


def client_for(membership: Membership) -> APIClient:
    """An API client authenticated with a JWT, as a real REST client would be."""
    client = APIClient()
    # An access token alone: a refresh token is recorded in the database (simplejwt's
    # blacklist), which async tests cannot do from their event loop.
    token = AccessToken.for_user(membership.user)
    token["auth_epoch"] = membership.user.auth_epoch
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _own_signin_counts(settings: Any) -> None:
    # Failed sign-ins are counted in the cache (Redis when REDIS_URL is set, shared by
    # every test and run): each test counts under its own prefix.
    settings.SIGNIN_KEY_PREFIX = f"test-signin:{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings: Any) -> None:
    # REST rate limits count in the cache too: each test has buckets of its own, so the
    # requests of other tests (or runs) never make one answer 429.
    settings.RATE_LIMITS_KEY_PREFIX = f"test-rate:{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _api_docs_public(settings: Any) -> None:
    # The tests that read the schema are about its content; who may read it (signed-in
    # users by default) is tests/config/test_edge_access.py's.
    settings.API_DOCS_PUBLIC = True


@pytest.fixture(autouse=True)
def _no_twilio_api(settings: Any) -> None:
    # No test reaches Twilio: a port nothing listens on, unless a test runs the fake.
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"


@pytest.fixture
def twilio_api(settings: Any) -> Iterator[Any]:
    """Twilio's REST API faked on a local port (tests/telephony/twilio/fakeapi.py)."""
    from tests.telephony.twilio.fakeapi import fake_twilio_api

    with fake_twilio_api() as api:
        settings.TWILIO_API_BASE_URL = api.base_url
        yield api


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def celery_conf(**values: Any) -> Iterator[None]:
    """Celery copies Django's CELERY_* settings once, when its configuration is first
    used: a test that needs other values sets them on the app too, for its duration."""
    from config.celery import app

    before = {key: app.conf[key] for key in values}
    app.conf.update(values)
    try:
        yield
    finally:
        app.conf.update(before)


@pytest.fixture(autouse=True)
def _celery_eager(settings: Any) -> Iterator[None]:
    # Tasks run in the test's process (after commit) unless a test starts a real worker
    # (tests/crm/test_worker.py): with REDIS_URL set, as in CI, they would otherwise wait
    # in Redis for a worker that never comes.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with celery_conf(task_always_eager=True):
        yield


@pytest.fixture(scope="session", autouse=True)
def _close_worker_thread_connections(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Async tests reach the database from asgiref's single worker thread (no outer
    async_to_sync there); close that thread's connection before the database is dropped."""
    yield
    import asyncio

    from channels.db import database_sync_to_async
    from django.db import connections

    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())
