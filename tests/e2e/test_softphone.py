"""The browser softphone end to end: two agents' consoles in Chromium (fake media devices)
register with Debian's kamailio (SIP over WebSocket, registrar and proxy, on loopback),
and agent A calls agent B through it: B rings, answers, audio flows both ways, hold and
resume, hang up. And a refused registration or a PBX that goes away is shown and retried
without breaking the console. Screenshots go to the test's tmp dir (and
``$E2E_SCREENSHOT_DIR``).

The supervisor's browser phone receives a monitoring call
(``test_the_supervisors_browser_phone_plays_the_monitoring_call``). Real there: the
server, the bridge and the AMI simulator as their own processes (the supervisor's
Listen and Stop go page → server → bridge → AMI, the session on the page and the
timeline comes back from the PBX's events); kamailio; the supervisor's console
softphone (JsSIP, registered as 2201), which shows the ringing call as the monitoring
call from its ``X-CC-Monitor`` header, is answered with its button, and plays what
arrives; the SIP and the RTP between it and the
PBX's side. Stood in for Asterisk (tests/e2e/pbx_standin.py): the INVITE and the BYE
of the monitoring leg, sent by a third Chromium page (JsSIP, registered to kamailio as
the PBX, Chromium's fake microphone as its sound) when the simulator reports the spy
starting and the leg hung up; its audio is that tone, not alice's call as ChanSpy would
relay it. The simulator's phone 2201 answers the Originate by itself before the SIP
call is placed (a real Asterisk runs ChanSpy once the phone answers).
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

from contactcenter.models import Agent, CallEvent
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD, SUPERVISOR_EXTENSION
from tests.e2e.monitored import call_for_alice, demo_agent, floor_row, make_available, stack
from tests.e2e.pages import STACK_MARKS, db_write, expect, screenshot
from tests.e2e.pbx_standin import AmiEvents, StandinServer, standin_page
from tests.e2e.softphones import browser, web
from tests.e2e.stack import (
    Process,
    Stack,
    database_url,
    db_run,
    free_port,
    wait_until,
)

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
CONFIG = Path(__file__).with_name("softphone_kamailio.cfg")
ACCOUNTS = {"alice": ("1001", "alice-sip-pw"), "bob": ("1002", "bob-sip-pw")}
SUPERVISOR_SIP = (SUPERVISOR_EXTENSION, "sam-sip-pw")
PBX_SIP = ("pbx", "pbx-sip-pw")  # the stand-in for Asterisk's side (pbx_standin.py)
__all__ = ["browser", "stack", "web"]  # fixtures

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
            f'\t$sht(passwd=>{user}) = "{password}";'
            for user, password in (*ACCOUNTS.values(), SUPERVISOR_SIP, PBX_SIP)
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


def give_supervisor_a_softphone(kamailio: Kamailio) -> None:
    agent = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="supervisor")
    agent.sip_username, agent.sip_password = SUPERVISOR_SIP
    agent.sip_domain = "127.0.0.1"
    agent.sip_websocket_url = kamailio.url
    agent.save()


@pytest.fixture
def pbx_server() -> Iterator[StandinServer]:
    server = StandinServer()
    yield server
    server.close()


def test_the_supervisors_browser_phone_plays_the_monitoring_call(
    stack: Stack, kamailio: Kamailio, pbx_server: StandinServer, browser: Any, tmp_path: Path
) -> None:
    """What is real and what stands in for Asterisk: the module's docstring."""
    try:
        _listen_in(stack, kamailio, pbx_server, browser, tmp_path)
    except BaseException:
        for process in [*stack.processes.values(), kamailio.process]:
            if process is not None:
                print(f"--- {process.name} ---\n{process.output()[-20000:]}")
        for log in sorted(tmp_path.glob("*-console.log")):
            print(f"--- {log.name} ---\n{log.read_text()[-5000:]}")
        raise


def _listen_in(
    stack: Stack, kamailio: Kamailio, pbx_server: StandinServer, browser: Any, tmp_path: Path
) -> None:
    db_write(lambda: give_supervisor_a_softphone(kamailio))
    alice = demo_agent("1001")
    make_available(console_for(browser, stack, "alice"))

    # The supervisor: their console (the browser phone, registered as 2201) and, beside
    # it, the supervisor page.
    sam = console_for(browser, stack, "supervisor")
    expect(sam.get_by_test_id("sip-status")).to_have_attribute("data-state", "registered")
    floor = sam.context.new_page()
    floor.goto("/supervisor/")
    expect(floor.get_by_test_id("no-phone")).to_be_hidden()
    alice_row = floor_row(floor, alice)

    pbx = standin_page(browser, pbx_server, tmp_path / "pbx-console.log")
    pbx.evaluate(
        "([url, user, password]) => window.pbx.start(url, user, password, '127.0.0.1')",
        [kamailio.url, *PBX_SIP],
    )
    pbx.wait_for_function("window.pbx.registration === 'registered'")
    events = AmiEvents(stack.ami_port)
    try:
        call = call_for_alice(stack, alice_row)

        # Listen: the bridge originates ChanSpy to PJSIP/2201; the PBX reports the spy.
        alice_row.get_by_test_id("monitor-listen").click()
        expect(floor.get_by_test_id("floor-message")).to_have_attribute("data-result", "ok")
        spy = events.wait_for(
            "ChanSpyStart",
            lambda m: (
                (m.get("SpyerChannel") or "").startswith(f"PJSIP/{SUPERVISOR_EXTENSION}-")
                and (m.get("SpyeeChannel") or "").startswith("PJSIP/1001-")
            ),
        )
        session = spy["SpyerUniqueid"]  # the Originate's ChannelId
        # The PBX's INVITE to the supervisor's phone: From is the Originate's caller ID
        # ("Listen 1001" <1001>, the leg's connected line), and the header its
        # PJSIP_HEADER variable adds.
        pbx.evaluate(
            "([user, call]) => window.pbx.dial(user, call)",
            [
                SUPERVISOR_EXTENSION,
                {
                    "name": spy["SpyerConnectedLineName"],
                    "number": spy["SpyerConnectedLineNum"],
                    "headers": [f"X-CC-Monitor: {session}"],
                },
            ],
        )
        assert spy["SpyerConnectedLineName"] == "Listen 1001"

        # The browser phone shows it as the monitoring call, ringing: never answered by
        # itself (a header proves nothing about who sent the INVITE); Answer takes it.
        sip_call = sam.get_by_test_id("sip-call")
        expect(sip_call).to_have_attribute("data-state", "ringing")
        expect(sip_call).to_have_attribute("data-monitor", session)
        expect(sam.locator("body")).to_have_attribute("data-ringtone", "on")
        sip_call.get_by_test_id("sip-answer").click()
        expect(sip_call).to_have_attribute("data-state", "connected")
        expect(sip_call).to_have_attribute("data-monitor", session)
        expect(sip_call.get_by_test_id("sip-call-state")).to_have_text("Monitoring")
        expect(sip_call.get_by_test_id("sip-call-number")).to_have_text("from 1001")
        expect(sip_call.get_by_test_id("sip-answer")).to_be_hidden()
        expect(sam.locator("body")).not_to_have_attribute("data-ringtone", "on")
        pbx.wait_for_function("window.pbx.call === 'confirmed'")
        marked = sam.evaluate("() => [...window.ccSoftphone.calls.values()].map(c => c.monitor)")
        assert marked == [session]
        # What the PBX's side sends is really played: inbound audio energy above zero.
        wait_for_more_audio(sam, 0)

        # The supervisor page shows the session, the timeline has it under that id.
        expect(call).to_have_attribute("data-monitor-mode", "listen")
        expect(call.get_by_test_id("call-monitor")).to_have_text("Sam Super: listen")
        expect(alice_row.get_by_test_id("monitor-listen")).to_have_attribute("aria-pressed", "true")
        started = db_run(lambda: CallEvent.objects.get(type="monitor.started").details)
        assert (started["session"], started["mode"]) == (session, "listen")
        screenshot(sam, tmp_path, "supervisor-softphone-monitoring")
        screenshot(floor, tmp_path, "supervisor-page-monitoring")

        # Stop: the bridge hangs the monitoring leg up; the PBX ends the SIP call (BYE).
        alice_row.get_by_test_id("monitor-stop").click()
        events.wait_for("ChanSpyStop", lambda m: m.get("SpyerUniqueid") == session)
        events.wait_for("Hangup", lambda m: m.get("Uniqueid") == session)
        pbx.evaluate("() => window.pbx.hangup()")
        expect(sam.get_by_test_id("sip-call")).to_have_count(0)
        pbx.wait_for_function("window.pbx.call === 'ended: local'")
        expect(call).to_have_attribute("data-monitor-mode", "")
        expect(call.get_by_test_id("call-monitor")).to_have_count(0)
        expect(sam.get_by_test_id("sip-status")).to_have_attribute("data-state", "registered")
        # Alice's call goes on.
        expect(call).to_have_attribute("data-status", "in_progress")
    finally:
        events.close()
