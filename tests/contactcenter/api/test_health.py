import pytest
from django.test import Client


def test_healthz_needs_nothing() -> None:
    resp = Client().get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_redis_when_configured(settings) -> None:
    resp = Client().get("/readyz")
    assert resp.status_code == 200, resp.content
    assert resp.json()["checks"]["database"] == "ok"
    if settings.REDIS_URL:
        assert resp.json()["checks"]["redis"] == "ok"


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_redis(settings) -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    resp = Client().get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "not_ready"
    assert body["checks"] == {"database": "ok", "redis": "error"}
