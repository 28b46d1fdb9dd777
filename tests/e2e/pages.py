"""What the browser tests share: Playwright on Debian's Chromium, the marks that skip them
where a piece is missing, the demo stack and a browser as fixtures, signing in through
the login page, a relay for a page's WebSockets, screenshots, and ORM work from a
Playwright test.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings
from django.db import connection, connections

from provisioning.demo import DEMO_PASSWORD
from tests.e2e.stack import Stack, demo_stack

playwright_sync = pytest.importorskip("playwright.sync_api")
Page = playwright_sync.Page
WebSocketRoute = playwright_sync.WebSocketRoute
expect = playwright_sync.expect

CHROMIUM = "/usr/bin/chromium"
REDIS_URL = os.environ.get("REDIS_URL", "")
# Upper bounds, not delays: a page's expectation, a Playwright action.
EXPECT_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 30_000

# The demo stack's processes share the test database and Redis, and drive Chromium.
STACK_MARKS = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the processes share a PostgreSQL database"
    ),
    pytest.mark.skipif(not REDIS_URL, reason="the processes share a Redis channel layer"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium, headless, closed at the end."""
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", *extra_args],
        )
        yield browser
        browser.close()


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path, settings: Any) -> Iterator[Stack]:
    # The server checks passwords with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    with demo_stack(tmp_path, REDIS_URL) as stack:
        yield stack
        # The pages ran under the server's Content-Security-Policy (config/csp.py):
        # nothing they load or open may have been refused by it.
        for log in stack.logs.glob("*-console.log"):
            refused = [line for line in log.read_text().splitlines() if "Security Policy" in line]
            assert not refused, (log.name, refused)


@pytest.fixture
def browser() -> Iterator[Any]:
    # Processes on a shared 2-core machine: give every expectation room (5 s by default).
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with chromium() as browser:
        yield browser


def sign_in(
    browser: Any,
    stack: Stack,
    username: str,
    page_path: str,
    relay: SocketRelay | None = None,
    **context_options: Any,
) -> Page:
    """A browser of its own for ``username``: open ``page_path``, sign in on the way.

    With ``relay``, the page's WebSockets pass through it (see SocketRelay);
    ``context_options`` go to Playwright's ``new_context`` (a time zone, a locale).
    """
    options = {"viewport": {"width": 1400, "height": 900}, **context_options}
    context = browser.new_context(base_url=stack.base_url, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    log = (stack.logs / f"{username}-console.log").open("a", encoding="utf-8", buffering=1)
    page.on("console", lambda message: log.write(f"{message.type}: {message.text}\n"))
    page.on("pageerror", lambda error: log.write(f"pageerror: {error}\n"))
    page.on("close", lambda _page: log.close())
    if relay is not None:
        page.route_web_socket("**/ws/**", relay.connect)
    page.goto(page_path)
    expect(page).to_have_url(f"{stack.base_url}/login/?next={page_path}")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{stack.base_url}{page_path}")
    # Connected: hello and snapshot received (the banner shows until then).
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()
    return page


@dataclass
class SocketRelay:
    """Passes a page's WebSockets through the test, to the real server.

    The test can then deliver a message of its own to the page (as the server would send
    it) or drop the connection, at the moment it chooses. Messages move only while the
    test is inside a Playwright call (an expect, an action): the sync API runs the
    relay's handlers then.
    """

    routes: list[WebSocketRoute] = field(default_factory=list)
    servers: list[WebSocketRoute] = field(default_factory=list)
    messages: list[list[dict[str, Any]]] = field(default_factory=list)

    def connect(self, route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        received: list[dict[str, Any]] = []

        def forward(message: str | bytes) -> None:
            if isinstance(message, str):
                received.append(json.loads(message))
            route.send(message)

        server.on_message(forward)
        self.routes.append(route)
        self.servers.append(server)
        self.messages.append(received)

    def last(self, message_type: str) -> dict[str, Any]:
        """The latest message of a type the server sent on the current connection."""
        return next(f for f in reversed(self.messages[-1]) if f["type"] == message_type)

    def deliver(self, message: dict[str, Any]) -> None:
        self.routes[-1].send(json.dumps(message))

    def drop(self) -> None:
        """Close the current connection at both ends (a network drop, as both see it)."""
        self.routes[-1].close(code=4000, reason="dropped by the test")
        self.servers[-1].close(code=1000, reason="dropped by the test")


def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("E2E_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def db_write(work: Callable[[], None]) -> None:
    """ORM work in a thread of its own (Playwright's loop makes this thread "async")."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()
