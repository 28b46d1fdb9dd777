"""One user signed in every way at once (a JWT pair and a browser session), to prove
what a change of their access ends: tests/contactcenter/services/test_sessions.py and
tests/contactcenter/test_admin_access.py."""

from __future__ import annotations

import itertools
import random

from django.test import Client
from rest_framework.test import APIClient

from contactcenter.models import Membership, User
from tests.factories import PASSWORD

_addresses = (f"10.200.{n // 250}.{n % 250 + 1}" for n in itertools.count(random.randrange(9000)))


def api() -> APIClient:
    """A REST client from an address of its own: DRF's per-address throttle on the auth
    endpoints counts in the cache every test shares."""
    return APIClient(REMOTE_ADDR=next(_addresses))


class Signed:
    """One user signed in three ways: a JWT pair and a browser session."""

    def __init__(self, membership: Membership) -> None:
        answer = api().post(
            "/api/v1/auth/token/", {"username": membership.user.username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.content
        self.access, self.refresh = answer.json()["access"], answer.json()["refresh"]
        self.user = User.objects.get(pk=membership.user_id)  # as signing in left it
        self.browser = Client()
        self.browser.force_login(self.user)

    def api(self) -> int:
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.access}")
        return int(client.get("/api/v1/me/").status_code)

    def refreshes(self) -> int:
        answer = api().post("/api/v1/auth/token/refresh/", {"refresh": self.refresh})
        return int(answer.status_code)

    def session(self) -> bool:
        """Whether the browser is still signed in."""
        return bool(self.browser.get("/api/v1/me/").status_code == 200)

    def assert_all_ended(self) -> None:
        assert self.api() == 401
        assert self.refreshes() == 401
        assert not self.session()

    def assert_all_hold(self) -> None:
        assert self.api() == 200
        assert self.session()
