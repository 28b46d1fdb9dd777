"""/favicon.ico answers (it was a 404 on every page, an error in the browser console)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_the_sites_icon() -> None:
    answer = Client().get("/favicon.ico")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg")
    assert "max-age=86400" in answer["Cache-Control"]
    assert Client().post("/favicon.ico").status_code == 405


def test_the_pages_link_the_icon() -> None:
    page = Client().get("/login/").content.decode()
    assert '<link rel="icon" href="/static/realtime/favicon.svg" type="image/svg+xml">' in page
    assert Client().get("/static/realtime/favicon.svg").status_code == 200
