"""The browser softphone tests' fixtures: the server alone (SIP goes from the browser to
kamailio, not through it) and a Chromium with fake media devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from tests.e2e.pages import REDIS_URL, chromium, expect
from tests.e2e.stack import Stack, demo_stack


@pytest.fixture
def web(transactional_db: None, tmp_path: Path, settings: Any) -> Iterator[Stack]:
    """Only the server (Daphne): SIP goes from browser to kamailio, not through it."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    with demo_stack(tmp_path, REDIS_URL, web_only=True) as stack:
        yield stack


@pytest.fixture
def browser() -> Iterator[Any]:
    expect.set_options(timeout=30_000)  # two browsers and three servers on 2 cores
    media = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with chromium(*media) as browser:
        yield browser
