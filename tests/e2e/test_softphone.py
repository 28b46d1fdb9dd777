"""The browser softphone end to end: two agents' consoles in Chromium (fake media devices)
register with Debian's kamailio (SIP over WebSocket, registrar and proxy, on loopback),
and agent A calls agent B through it: B rings, answers, audio flows both ways, hold and
resume, hang up. And a refused registration or a PBX that goes away is shown and retried
without breaking the console. Screenshots go to the test's tmp dir (and
``$E2E_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from contactcenter.models import Agent
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD
from tests.e2e.pages import STACK_MARKS, db_write, expect, screenshot
from tests.e2e.softphones import browser, web
from tests.e2e.stack import (
    Process,
    Stack,
    database_url,
    free_port,
    wait_until,
)

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
CONFIG = Path(__file__).with_name("softphone_kamailio.cfg")
ACCOUNTS = {"alice": ("1001", "alice-sip-pw"), "bob": ("1002", "bob-sip-pw")}
__all__ = ["browser", "web"]  # fixtures

pytestmark = [
    *STACK_MARKS,
    pytest.mark.skipif(not Path(KAMAILIO).exists(), reason="needs Debian's kamailio"),
]


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class Kamailio:
    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        accounts = "\n".join(
            f'\t$sht(passwd=>{user}) = "{password}";' for user, password in ACCOUNTS.values()
        )
        text = CONFIG.read_text().replace("__PORT__", str(self.port))
        self.config = logs / "kamailio.cfg"
        self.config.write_text(text.replace("__ACCOUNTS__", accounts))
        self.logs = logs
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [KAMAILIO, "-DD", "-E", "-f", str(self.config), "-P", str(self.logs / "k.pid")]
        self.process = Process("kamailio", args, dict(os.environ), self.logs / "kamailio.log")
        self.process.start()

        def listening() -> bool:
            assert self.process is not None
            self.process.check_alive()
            return port_open(self.port)

        wait_until(listening, "kamailio to listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            wait_until(lambda: not port_open(self.port), "kamailio to stop listening")


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[Kamailio]:
    server = Kamailio(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _database_url() -> str:
    return database_url(connection.settings_dict)


def give_accounts(kamailio: Kamailio, **passwords: str) -> None:
    for username, (extension, password) in ACCOUNTS.items():
        agent = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username=username)
        agent.sip_username = extension
        agent.sip_password = passwords.get(username, password)
        agent.sip_domain = "127.0.0.1"
        agent.sip_websocket_url = kamailio.url
        agent.save()


def console_for(
    browser: Any, stack: Stack, username: str, prepare: Callable[[Any], None] | None = None
) -> Any:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    if prepare is not None:
        prepare(context)
    page = context.new_page()
    page.goto("/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    return page


AUDIO_ENERGY = """async () => {
  let energy = 0;
  for (const call of window.ccSoftphone.calls.values()) {
    energy = Math.max(energy, (await call.inboundAudioLevel()) || 0);
  }
  return energy;
}"""


def inbound_energy(page: Any) -> float:
    return float(page.evaluate(AUDIO_ENERGY))


def wait_for_more_audio(page: Any, than: float) -> float:
    page.wait_for_function(f"({AUDIO_ENERGY})().then(e => e > {than})", polling=200)
    return inbound_energy(page)


def test_agent_a_calls_agent_b_through_kamailio(
    web: Stack, kamailio: Kamailio, browser: Any, tmp_path: Path
) -> None:
    db_write(lambda: give_accounts(kamailio))
    alice = console_for(browser, web, "alice")
    bob = console_for(browser, web, "bob")
    for page in (alice, bob):
        expect(page.get_by_test_id("sip-status")).to_have_attribute("data-state", "registered")

    alice.get_by_test_id("sip-dial-number").fill("1002")
    alice.get_by_test_id("sip-dial-call").click()

    ringing = bob.get_by_test_id("sip-call")
    expect(ringing).to_have_attribute("data-state", "ringing")
    expect(ringing.get_by_test_id("sip-call-number")).to_have_text("from 1001")
    expect(bob.locator("body")).to_have_attribute("data-ringtone", "on")
    # One card for the call (no Call record here: the SIP call's own card).
    expect(bob.get_by_test_id("sip-call-card")).to_have_count(1)
    screenshot(bob, tmp_path, "softphone-b-ringing")

    ringing.get_by_test_id("sip-answer").click()
    for page in (alice, bob):
        expect(page.get_by_test_id("sip-call")).to_have_attribute("data-state", "connected")
    expect(bob.locator("body")).not_to_have_attribute("data-ringtone", "on")

    # The fake microphone's tone arrives on each side: inbound audio energy above zero.
    energy = {name: wait_for_more_audio(page, 0) for name, page in (("a", alice), ("b", bob))}
    screenshot(alice, tmp_path, "softphone-a-connected")
    screenshot(bob, tmp_path, "softphone-b-connected")

    alice_call = alice.get_by_test_id("sip-call")
    bob_call = bob.get_by_test_id("sip-call")
    # The keypad plays DTMF into the call (RFC 2833, negotiated with the other side):
    # the browser's DTMF sender reports each tone as it goes out.
    for key in ("5", "#"):
        alice.get_by_test_id(f"sip-key-{key}").click()
    expect(alice_call).to_have_attribute("data-keys-sent", "5#")
    expect(alice_call.get_by_test_id("sip-keys-sent")).to_have_text("keys 5#")
    alice_call.get_by_test_id("sip-hold").click()
    expect(alice_call).to_have_attribute("data-held", "true")
    expect(alice_call.get_by_test_id("sip-call-state")).to_have_text("On hold")
    expect(bob_call).to_have_attribute("data-remote-held", "true")
    screenshot(alice, tmp_path, "softphone-a-on-hold")
    alice_call.get_by_test_id("sip-hold").click()
    expect(alice_call).to_have_attribute("data-held", "false")
    expect(bob_call).to_have_attribute("data-remote-held", "false")
    # Audio flows again after the resume.
    wait_for_more_audio(bob, inbound_energy(bob))
    wait_for_more_audio(alice, max(energy["a"], inbound_energy(alice)))

    bob_call.get_by_test_id("sip-hangup").click()
    for page in (alice, bob):
        expect(page.get_by_test_id("sip-call")).to_have_count(0)
        expect(page.get_by_test_id("sip-status")).to_have_attribute("data-state", "registered")
    screenshot(alice, tmp_path, "softphone-a-after-hangup")


def test_refused_registration_is_shown_and_retried_and_the_console_works(
    web: Stack, kamailio: Kamailio, browser: Any, tmp_path: Path
) -> None:
    db_write(lambda: give_accounts(kamailio, alice="wrong-password"))
    alice = console_for(browser, web, "alice")
    status = alice.get_by_test_id("sip-status")
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text("403")
    # Retried (attempt counter moves), and the console goes on meanwhile.
    expect(status).to_have_attribute("data-attempts", "2")
    alice.get_by_test_id("state-available").click()
    expect(alice.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    expect(alice.get_by_test_id("offline-banner")).to_be_hidden()
    screenshot(alice, tmp_path, "softphone-registration-refused")


def test_pbx_down_then_back_reregisters_by_itself(
    web: Stack, kamailio: Kamailio, browser: Any, tmp_path: Path
) -> None:
    db_write(lambda: give_accounts(kamailio))
    bob = console_for(browser, web, "bob")
    status = bob.get_by_test_id("sip-status")
    expect(status).to_have_attribute("data-state", "registered")
    kamailio.stop()
    expect(status).to_have_attribute("data-state", "disconnected")
    screenshot(bob, tmp_path, "softphone-pbx-down")
    bob.get_by_test_id("state-available").click()
    expect(bob.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    kamailio.start()
    expect(status).to_have_attribute("data-state", "registered", timeout=60_000)


def test_a_softphone_that_starts_after_the_first_snapshot_still_registers(
    web: Stack, kamailio: Kamailio, browser: Any
) -> None:
    """The softphone is a module of its own with big imports: on a slow network or CPU
    the console's first snapshot arrives before it runs. It must still take its account
    from that snapshot (it used to stay "off" until the next reconnection)."""
    db_write(lambda: give_accounts(kamailio))

    def slow_imports(context: Any) -> None:
        def late(route: Any) -> None:
            time.sleep(2)  # holds this one file; the page, the socket and console.js go on
            route.continue_()

        context.route("**/softphone-twilio.js", late)

    alice = console_for(browser, web, "alice", prepare=slow_imports)
    expect(alice.get_by_test_id("sip-status")).to_have_attribute("data-state", "registered")
