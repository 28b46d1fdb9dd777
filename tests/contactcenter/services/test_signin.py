"""Password guessing is limited the same way on every sign-in (contactcenter/services/signin.py).

The counts live in the test run's cache (Redis when REDIS_URL is set). Each test takes
client addresses of its own, so DRF's per-address throttle on the token endpoints (keyed
by address in that shared cache) never leaks from one test into another.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from contactcenter.services.signin import lock_seconds
from tests.conftest import Floor
from tests.factories import PASSWORD, make_member, make_org

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


# One /16 per call, never the same twice in a run (a random pick per test once gave two
# tests the same /16, and DRF's per-address throttle, counted in the shared cache for a
# minute, refused the second test's first try). The random start keeps back-to-back runs
# apart as well.
_BASES = (f"10.{n % 256}" for n in itertools.count(random.randrange(256)))


def _addresses() -> Any:
    """Endless distinct addresses of a /16 no other test uses."""
    base = next(_BASES)
    return (f"{base}.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def _token(username: str, password: str, *, address: str, **headers: str) -> Any:
    client = APIClient(REMOTE_ADDR=address)
    return client.post(TOKEN, {"username": username, "password": password}, **headers)


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.SIGNIN_FREE_FAILURES = 5
    settings.SIGNIN_ADDRESS_FREE_FAILURES = 20
    settings.SIGNIN_LOCK_FIRST_SECONDS = 60
    settings.SIGNIN_LOCK_MAX_SECONDS = 300
    return settings


def test_lock_doubles_from_the_first_and_stops_at_the_cap(limits: Any) -> None:
    assert [lock_seconds(n, 5) for n in range(1, 10)] == [0, 0, 0, 0, 0, 60, 120, 240, 300]
    assert lock_seconds(10_000, 5) == 300


def test_a_rotating_forwarded_for_does_not_escape_the_limits(floor_a: Floor, limits: Any) -> None:
    """The probe's attack: 120 wrong passwords, each with another X-Forwarded-For."""
    username = floor_a.agent_member.user.username
    address = next(_addresses())
    statuses = []
    for n in range(120):
        forged = f"203.0.113.{n % 250 + 1}"
        answer = _token(username, f"guess-{n}", address=address, HTTP_X_FORWARDED_FOR=forged)
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5  # the free failures
    assert statuses[5:] == [401] + [429] * 114  # the sixth locks the account for a minute
    # The right password is refused as well while the lock lasts, even from another
    # address (past 30 a minute this one is also refused by DRF's per-address throttle).
    assert _token(username, PASSWORD, address=address).status_code == 429
    answer = _token(username, PASSWORD, address=next(_addresses()))
    assert answer.status_code == 429, answer.content
    assert answer["Retry-After"] and 0 < int(answer["Retry-After"]) <= 60
    error = answer.json()["errors"][0]
    assert error["code"] == "throttled" and "Too many failed sign-ins" in error["detail"]


def test_the_account_lock_holds_across_addresses(floor_a: Floor, limits: Any) -> None:
    username = floor_a.supervisor.user.username
    addresses = _addresses()
    for n in range(6):  # six addresses, six failures: the account is locked
        assert _token(username, f"guess-{n}", address=next(addresses)).status_code == 401
    assert _token(username, PASSWORD, address=next(addresses)).status_code == 429
    # Another account from those same addresses is not held up.
    other = floor_a.admin.user.username
    assert _token(other, PASSWORD, address=next(_addresses())).status_code == 200


def test_the_account_is_counted_whatever_its_case(floor_a: Floor, limits: Any) -> None:
    username = floor_a.supervisor.user.username
    addresses = _addresses()
    for n in range(6):
        spelled = username.upper() if n % 2 else username
        assert _token(spelled, f"guess-{n}", address=next(addresses)).status_code == 401
    assert _token(username, PASSWORD, address=next(addresses)).status_code == 429


def test_an_address_spraying_many_accounts_is_locked(floor_a: Floor, limits: Any) -> None:
    address, elsewhere = next(_addresses()), next(_addresses())
    for n in range(21):  # one try per made-up account: no account lock, the address's
        assert _token(f"nobody{n}", "Winter2026!", address=address).status_code == 401
    real = floor_a.admin.user.username
    assert _token(real, PASSWORD, address=address).status_code == 429
    assert _token(real, PASSWORD, address=elsewhere).status_code == 200


def test_a_success_clears_the_addresss_failures(floor_a: Floor, limits: Any) -> None:
    limits.SIGNIN_ADDRESS_FREE_FAILURES = 8  # under DRF's 30 requests a minute
    address = next(_addresses())
    for n in range(7):
        assert _token(f"typo{n}", "nope", address=address).status_code == 401
    assert _token(floor_a.admin.user.username, PASSWORD, address=address).status_code == 200
    for n in range(9):  # eight free failures again, the ninth locks
        assert _token(f"again{n}", "nope", address=address).status_code == 401
    assert _token(floor_a.admin.user.username, PASSWORD, address=address).status_code == 429


def test_the_real_user_signs_in_once_the_lock_has_passed(floor_a: Floor, settings: Any) -> None:
    settings.SIGNIN_FREE_FAILURES = 3
    settings.SIGNIN_LOCK_FIRST_SECONDS = 1
    settings.SIGNIN_LOCK_MAX_SECONDS = 1
    username = floor_a.agent_member.user.username
    addresses = _addresses()
    for n in range(4):
        assert _token(username, f"guess-{n}", address=next(addresses)).status_code == 401
    assert _token(username, PASSWORD, address=next(addresses)).status_code == 429
    time.sleep(1.2)  # the lock is a cache entry that expires: nothing to await
    assert _token(username, PASSWORD, address=next(addresses)).status_code == 200


def test_the_login_page_is_limited_with_a_clear_message(floor_a: Floor, limits: Any) -> None:
    username = floor_a.agent_member.user.username
    addresses = _addresses()
    answers = []
    for n in range(100):
        client = Client(REMOTE_ADDR=next(addresses))
        answers.append(client.post("/login/", {"username": username, "password": f"g{n}"}))
    assert [a.status_code for a in answers[:6]] == [200] * 6  # the form again, "wrong"
    assert {a.status_code for a in answers[6:]} == {429}
    assert b"Too many failed sign-ins" in answers[-1].content
    assert answers[-1]["Retry-After"]
    right = Client(REMOTE_ADDR=next(addresses)).post(
        "/login/", {"username": username, "password": PASSWORD}
    )
    assert right.status_code == 429
    assert "sessionid" not in right.cookies


def test_the_admin_login_is_limited_too(db: None, limits: Any) -> None:
    staff = make_member(make_org(), "admin").user
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    addresses = _addresses()
    for n in range(6):
        client = Client(REMOTE_ADDR=next(addresses))
        page = client.post("/admin/login/", {"username": staff.username, "password": f"g{n}"})
        assert b"Too many failed sign-ins" not in page.content
    client = Client(REMOTE_ADDR=next(addresses))
    page = client.post(
        "/admin/login/?next=/admin/", {"username": staff.username, "password": PASSWORD}
    )
    assert page.status_code == 200  # the form again, not the redirect into the admin
    assert b"Too many failed sign-ins" in page.content
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_all_three_share_one_count(floor_a: Floor, limits: Any) -> None:
    """Two failures on each way in: the sixth locks the account for all of them."""
    user = floor_a.supervisor.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    addresses = _addresses()
    for n in range(2):
        _token(user.username, f"api-{n}", address=next(addresses))
        Client(REMOTE_ADDR=next(addresses)).post(
            "/login/", {"username": user.username, "password": f"page-{n}"}
        )
        Client(REMOTE_ADDR=next(addresses)).post(
            "/admin/login/", {"username": user.username, "password": f"admin-{n}"}
        )
    assert _token(user.username, PASSWORD, address=next(addresses)).status_code == 429


def test_failed_and_successful_sign_ins_are_logged_without_the_password(
    floor_a: Floor, limits: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="contactcenter.services.signin")
    username = floor_a.agent_member.user.username
    address = next(_addresses())
    secret_guess = "Sup3r-secret-guess"
    _token(username + "\r\nforged line", secret_guess, address=address)
    _token(username, PASSWORD, address=address)
    failed, succeeded = (r for r in caplog.records if r.name == "contactcenter.services.signin")
    assert failed.levelno == logging.WARNING and failed.event == "signin.failed"  # type: ignore[attr-defined]
    assert failed.username == f"{username}??forged line"  # type: ignore[attr-defined]
    assert failed.client_address == address  # type: ignore[attr-defined]
    assert failed.path == TOKEN  # type: ignore[attr-defined]
    assert "\n" not in failed.getMessage()
    assert succeeded.levelno == logging.INFO and succeeded.event == "signin.succeeded"  # type: ignore[attr-defined]
    assert succeeded.user_id == floor_a.agent_member.user_id  # type: ignore[attr-defined]
    for record in (failed, succeeded):
        text = record.getMessage() + repr(record.__dict__)
        assert secret_guess not in text and PASSWORD not in text
