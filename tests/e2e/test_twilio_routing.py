"""A Twilio caller is routed to alice's console in Chromium, she answers, and the
supervisor's wallboard shows the call answered (issue 30).

The server (Daphne) runs as operators run it, with ``PUBLIC_URL`` and the Twilio REST
API pointed at the fake API (tests/telephony/twilio/fakeapi.py, a real socket). The test
plays Twilio: it sends the signed webhooks a caller's call makes (the Voice URL, the
Enqueue action, the ringing leg's status callbacks), reads the ring the routing asked
for from the fake API's call update (the ``<Dial><Client>`` of alice's identity), and
speaks the Voice SDK's signalling to alice's browser (``FakeSignalling`` of
test_softphone_twilio.py): the invite, and her answer. The invite's SDP offer is a real
one, made by a peer connection in another browser context (Twilio's media server's
part), so that the SDK accepts the call as it would Twilio's.

Every wait is on what a page, the fake API or the signalling shows; on failure the
server's log and the pages' consoles are printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import requests
from django.conf import global_settings
from django.core.management import call_command
from django.db import connection

from contactcenter.enums import AgentState
from contactcenter.models import Agent, Call, CallQueue
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from tests.e2e.pages import (
    ACTION_TIMEOUT_MS,
    REDIS_URL,
    STACK_MARKS,
    db_write,
    expect,
    screenshot,
    sign_in,
)
from tests.e2e.softphones import browser  # noqa: F401  (the fixture: fake media devices)
from tests.e2e.stack import Stack, database_url, db_run, stack_sessions, wait_until
from tests.e2e.twilio_signalling import (
    APP_SID,
    KEY_SECRET,
    KEY_SID,
    SIGNAL,
    FakeSignalling,
    pump_until,
)
from tests.telephony.twilio.fakeapi import FakeTwilioAPI, fake_twilio_api
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, call_sid, sign

pytestmark = STACK_MARKS

CALLER = "+15557654321"  # John Smith, a contact of seed_demo
PARENT = call_sid(0x7E57)
LEG = call_sid(0x7E58)
QUEUE = "support"


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioAPI]:
    with fake_twilio_api() as api:
        api.add(ACCOUNT_SID, AUTH_TOKEN)
        yield api


@pytest.fixture
def twilio_web(
    transactional_db: None, tmp_path: Path, settings: Any, twilio_api: FakeTwilioAPI
) -> Iterator[Stack]:
    """The demo organization on Twilio, and the server alone: Twilio's callbacks reach
    it at PUBLIC_URL (here its own address), its REST calls reach the fake API."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    call_command("seed_demo")
    stack = Stack(
        database_url=database_url(connection.settings_dict),
        redis_url=REDIS_URL,
        logs=tmp_path,
        organization_slug=DEMO_ORG_SLUG,
    )
    stack.env_used = {
        **stack.env(),
        "PUBLIC_URL": stack.base_url,
        "TWILIO_API_BASE_URL": twilio_api.base_url,
    }
    db_write(_on_twilio)
    try:
        stack.start_web()
        yield stack
    finally:
        stack.stop()
        wait_until(lambda: stack_sessions() == 0, "the server's database sessions to end")
    # The pages ran under the server's Content-Security-Policy: nothing refused.
    for log in tmp_path.glob("*-console.log"):
        refused = [line for line in log.read_text().splitlines() if "Security Policy" in line]
        assert not refused, (log.name, refused)


def _on_twilio() -> None:
    """The Twilio account of the demo organization; alice the only one who could take
    a call (her colleagues in support are offline)."""
    alice = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="alice")
    TwilioAccount.objects.update_or_create(
        organization=alice.organization,
        defaults={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "api_key_sid": KEY_SID,
            "api_key_secret": KEY_SECRET,
            "twiml_app_sid": APP_SID,
        },
    )
    Agent.objects.filter(organization=alice.organization).update(state=AgentState.OFFLINE)


class Twilio:
    """Twilio's side of the call: signed webhooks to the server, as Twilio sends them."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.seq = 0

    def post(self, path: str, **fields: str) -> bytes:
        form = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", **fields}
        url = self.stack.base_url + path
        answer = requests.post(
            url, data=form, headers={"X-Twilio-Signature": sign(url, form)}, timeout=60
        )
        assert answer.status_code in (200, 204), (path, answer.status_code, answer.text)
        return answer.content

    def caller(self, path: str, status: str, **extra: str) -> bytes:
        numbers = {"From": CALLER, "To": OUR_NUMBER, "Direction": "inbound"}
        return self.post(path, CallSid=PARENT, CallStatus=status, **numbers, **extra)

    def leg(self, path: str, status: str) -> None:
        self.post(
            path,
            CallSid=LEG,
            CallStatus=status,
            From=CALLER,
            To=f"client:{alice_identity()}",
            Direction="outbound-dial",
            ParentCallSid=PARENT,
            SequenceNumber=str(self.seq),
            CallbackSource="call-progress-events",
        )
        self.seq += 1


def alice_identity() -> str:
    return db_run(
        lambda: Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="alice")
    ).twilio_identity


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def media_offer(browser: Any) -> str:  # noqa: F811
    """An SDP offer with audio, from a peer connection of a context of its own."""
    page = browser.new_context().new_page()
    sdp: str = page.evaluate(
        """async () => {
            const pc = new RTCPeerConnection();
            pc.addTransceiver("audio", { direction: "sendrecv" });
            const offer = await pc.createOffer();
            await pc.setLocalDescription(offer);
            window.mediaServer = pc;
            return offer.sdp;
        }"""
    )
    return sdp


def alice_console(browser: Any, stack: Stack, signalling: FakeSignalling) -> Any:  # noqa: F811
    """alice's console, with the Voice SDK's socket routed to the signalling stand-in
    and what the page logs kept beside the server's log."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.route_web_socket(SIGNAL, signalling.handle)
    # The SDK also reports to Twilio's event gateway over HTTPS: no network here.
    context.route(re.compile(r"^https://[^/]*twilio\.com/"), lambda route: route.abort())
    page = context.new_page()
    log = (stack.logs / "alice-console.log").open("a", encoding="utf-8", buffering=1)
    page.on("console", lambda message: log.write(f"{message.type}: {message.text}\n"))
    page.on("pageerror", lambda error: log.write(f"pageerror: {error}\n"))
    page.on("close", lambda _page: log.close())
    page.goto("/console/")
    page.get_by_test_id("login-username").fill("alice")
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    return page


def test_a_twilio_caller_is_routed_to_alice_who_answers_and_the_wallboard_shows_it(
    twilio_web: Stack,
    twilio_api: FakeTwilioAPI,
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    try:
        _play(twilio_web, twilio_api, browser, tmp_path)
    except BaseException:
        for process in twilio_web.processes.values():
            print(f"--- {process.name} ---\n{process.output()[-20000:]}")
        for log in sorted(tmp_path.glob("*-console.log")):
            print(f"--- {log.name} ---\n{log.read_text()[-5000:]}")
        raise


def _play(stack: Stack, api: FakeTwilioAPI, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    support = db_run(
        lambda: CallQueue.objects.get(organization__slug=DEMO_ORG_SLUG, pbx_queue_name=QUEUE)
    )
    identity = alice_identity()
    twilio = Twilio(stack)

    board: Any = sign_in(browser, stack, "supervisor", "/wallboard/")
    tile = board.locator(f"[data-testid=queue-tile][data-queue-id='{support.pk}']")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "0")
    expect(tile.get_by_test_id("figure-answered")).to_have_attribute("data-value", "0")

    signalling = FakeSignalling()
    console = alice_console(browser, stack, signalling)
    expect(console.get_by_test_id("twilio-status")).to_have_attribute("data-state", "registered")

    # A caller rings our number: the Voice URL puts them in the queue. Nobody is free
    # (alice is offline), so they wait; the wallboard shows them.
    enqueue = twilio.caller(webhook_path("voice", Hints(queue=QUEUE)), "ringing")
    assert b"<Enqueue" in enqueue, enqueue
    twilio.caller(webhook_path("status"), "in-progress")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "1")
    assert api.updates == []  # nobody rung

    # alice becomes available: the routing offers her the caller, through Twilio's
    # REST API (the caller's call redirected to a <Dial> of her client identity).
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    [update] = api.wait_updates(1, timeout=60)
    assert update.call_sid == PARENT
    dial = ElementTree.fromstring(update.fields["Twiml"]).find("Dial")
    assert dial is not None, update.fields
    [client] = dial.findall("Client")
    assert client.findtext("Identity") == identity
    parameters = {p.get("name"): p.get("value") for p in client.findall("Parameter")}
    assert parameters.get("cc_call_sid") == PARENT, parameters
    leg_path = path_of(client.get("statusCallback", ""))
    assert leg_path, update.fields

    # Twilio runs it: the caller leaves the queue to ring alice's client; her leg rings.
    twilio.caller(
        webhook_path("queue-result", Hints(queue=QUEUE)),
        "in-progress",
        QueueResult="redirected",
        QueueTime="3",
    )
    twilio.leg(leg_path, "initiated")
    twilio.leg(leg_path, "ringing")
    call_id = db_run(lambda: Call.objects.get(external_id=PARENT).pk)
    card = console.locator(f"[data-testid=call-card][data-call-id='{call_id}']")
    expect(card).to_have_attribute("data-leg", "offered")
    expect(card).to_contain_text(CALLER)

    # Her console's Twilio phone rings inside the caller's call card.
    offer = media_offer(browser)
    signalling.invite(call_sid=LEG, parent_sid=PARENT, caller=CALLER, identity=identity, sdp=offer)
    phone_call = card.get_by_test_id("sip-call")
    expect(phone_call).to_have_attribute("data-state", "ringing")
    expect(console.locator("body")).to_have_attribute("data-ringtone", "on")
    screenshot(console, tmp_path, "twilio-routed-ringing")

    # She answers in the browser: the SDK answers Twilio with its SDP; Twilio connects
    # the two and reports the leg answered.
    phone_call.get_by_test_id("sip-answer").click()
    pump_until(
        console,
        lambda: any(p.get("callsid") == LEG for p in signalling.of_type("answer")),
        "the browser's answer to reach Twilio",
    )
    [answer] = [p for p in signalling.of_type("answer") if p.get("callsid") == LEG]
    assert "m=audio" in answer["sdp"]
    twilio.leg(leg_path, "in-progress")
    expect(phone_call).to_have_attribute("data-state", "connected")
    expect(console.locator("body")).not_to_have_attribute("data-ringtone", "on")
    expect(card).to_have_attribute("data-status", "in_progress")

    # The wallboard: the queue's call answered, nobody waiting.
    expect(tile.get_by_test_id("figure-answered")).to_have_attribute("data-value", "1")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "0")
    expect(tile.get_by_test_id("figure-offered")).to_have_attribute("data-value", "1")
    # Her own console's queue panel says the same.
    row = console.locator(f"[data-testid=queue-row][data-queue-id='{support.pk}']")
    expect(row.get_by_test_id("queue-waiting")).to_have_text("0")
    screenshot(console, tmp_path, "twilio-routed-answered")
    screenshot(board, tmp_path, "twilio-routed-wallboard")

    # What the pages show is what is stored: alice answered it, once.
    call = db_run(lambda: Call.objects.get(pk=call_id))
    assert call.answered_at is not None and call.ended_at is None
    alice = db_run(
        lambda: Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="alice")
    )
    assert call.agent_id == alice.pk
    assert len(api.updates) == 1  # rung once
