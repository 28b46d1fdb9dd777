"""The long-running loops' database work: no ping per unit, a broken connection replaced."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, close_old_connections, connection

from config.db.work import run_retrying
from tests.conftest import admin_session

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _terminate(pid: int) -> None:
    """End a session from outside it, as a database restart would."""
    with admin_session() as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
    assert row == (True,)


@pytest.fixture
def counted_pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each health check (``SELECT 1``) Django runs on this thread's connection."""
    pings: list[int] = []
    usable = connection.is_usable

    def is_usable() -> bool:
        pings.append(1)
        return usable()

    monkeypatch.setattr(connection, "is_usable", is_usable)
    return pings


def test_a_kept_connection_is_not_pinged_before_each_unit(counted_pings: list[int]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("health checks as configured for PostgreSQL")
    first = run_retrying(_backend_pid)
    assert [run_retrying(_backend_pid) for _ in range(3)] == [first] * 3
    assert counted_pings == []
    # What the loops did before: Django's per-request cleanup, then a query, pings.
    connection.health_check_enabled = True
    close_old_connections()
    assert _backend_pid() == first
    assert counted_pings == [1]


def test_a_connection_broken_while_idle_costs_one_attempt() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("ends a PostgreSQL session")
    before = run_retrying(_backend_pid)
    _terminate(before)
    attempts: list[int] = []

    def work() -> int:
        attempts.append(1)
        return _backend_pid()

    after = run_retrying(work)
    assert after != before
    assert len(attempts) == 2


def test_a_database_that_stays_down_is_raised_after_one_more_try() -> None:
    run_retrying(_backend_pid)  # a kept connection
    attempts: list[int] = []

    def down(*_: Any) -> None:
        attempts.append(1)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        run_retrying(down)
    assert len(attempts) == 2
    # With no connection kept, there is nothing that could have gone stale: no retry.
    attempts.clear()
    connection.close()
    with pytest.raises(OperationalError):
        run_retrying(down)
    assert len(attempts) == 1
