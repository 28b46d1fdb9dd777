"""Who reaches the pages that are not the product: the API schema, Swagger UI and the
WebSocket protocol's AsyncAPI document (signed-in users unless API_DOCS_PUBLIC) and
/metrics (the scraper's networks, with its bearer token when one is set), in process
and from a real server process in production mode."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import Floor, client_for
from tests.realtime.servers import daphne, until_up

pytestmark = pytest.mark.django_db

DOCS = ("/api/schema/", "/api/docs/", "/api/asyncapi/")


def test_api_docs_are_for_signed_in_users_by_default(floor_a: Floor, settings: Any) -> None:
    settings.API_DOCS_PUBLIC = False
    anonymous = Client()
    for schema in ("/api/schema/", "/api/asyncapi/"):
        assert anonymous.get(schema).status_code == 401, schema
        assert client_for(floor_a.agent_member).get(schema).status_code == 200, schema  # JWT
    page = anonymous.get("/api/docs/")
    assert page.status_code == 302 and page["Location"].startswith("/login/?next=/api/docs/")
    browser = Client()
    browser.force_login(floor_a.agent_member.user)
    for path in DOCS:
        assert browser.get(path).status_code == 200, path


def test_api_docs_public_when_configured(settings: Any) -> None:
    settings.API_DOCS_PUBLIC = True
    for path in DOCS:
        assert Client().get(path).status_code == 200, path


def test_swagger_ui_runs_no_inline_script(settings: Any) -> None:
    settings.API_DOCS_PUBLIC = True
    page = Client().get("/api/docs/").content.decode()
    assert "<script>" not in page  # its start-up script is a file: the CSP allows no inline
    script = Client().get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def _scrape(address: str, token: str | None = None) -> int:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return Client(REMOTE_ADDR=address).get("/metrics", **headers).status_code


def test_metrics_answer_loopback_only_by_default(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert _scrape("127.0.0.1") == 200
    assert _scrape("::1") == 200
    for outside in ("10.1.2.3", "192.168.0.7", "203.0.113.9", "not-an-address"):
        assert _scrape(outside) == 403, outside


def test_metrics_want_the_token_when_one_is_set(settings: Any) -> None:
    settings.METRICS_TOKEN = "scrape-me-9f2"
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert _scrape("10.1.2.3", "scrape-me-9f2") == 200
    assert _scrape("10.1.2.3") == 403
    assert _scrape("10.1.2.3", "wrong") == 403
    assert _scrape("192.168.0.7", "scrape-me-9f2") == 403  # the right token, elsewhere
    assert _scrape("127.0.0.1", "scrape-me-9f2") == 403  # loopback is not in the list now


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is the answer


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server process needs PostgreSQL")
def test_a_production_server_keeps_docs_and_metrics_to_themselves(tmp_path: Path) -> None:
    env = {
        "DJANGO_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "METRICS_TOKEN": "scrape-me-9f2",
        "API_DOCS_PUBLIC": "false",  # the default, which the test servers' env changes
    }
    with daphne(tmp_path, **env) as server:
        asyncio.run(until_up(server))
        assert _get(f"{server.base}/api/schema/") == 401
        assert _get(f"{server.base}/api/asyncapi/") == 401
        assert _get(f"{server.base}/api/docs/") == 302  # to the sign-in page
        assert _get(f"{server.base}/metrics") == 403
        bearer = {"Authorization": "Bearer scrape-me-9f2"}
        assert _get(f"{server.base}/metrics", bearer) == 200
