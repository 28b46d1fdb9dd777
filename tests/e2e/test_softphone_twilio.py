"""The Twilio side of the browser softphone, end to end in Chromium: the console of an
agent of an organization on Twilio loads the vendored Twilio Voice SDK, gets a voice
token from the server for that agent only, registers, renews the token before it
expires, shows an incoming Twilio call inside the card of its Call record, rejects it,
and shows and retries a refused token; the rest of the console works throughout.

No network reaches Twilio here, so the test plays Twilio's signalling server: Playwright
routes the SDK's WebSocket (wss://*.twilio.com/signal) to ``FakeSignalling``, which
speaks the SDK's messages (listen -> connected, register -> ready, invite, reject,
error) and checks each token it is given with the API key secret, as Twilio does.
Media is not exercised (no Twilio media server): the SIP test carries audio.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, TypeVar

import jwt
import pytest
from twilio.request_validator import RequestValidator

from contactcenter.models import Agent, Call, CallQueue
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from tests.e2e.pages import CHROMIUM, REDIS_URL, db_write, expect, screenshot
from tests.e2e.softphones import browser, web  # noqa: F401  (the fixtures)
from tests.e2e.stack import Stack, db_run
from tests.e2e.twilio_signalling import (
    APP_SID,
    KEY_SECRET,
    KEY_SID,
    SIGNAL,
    FakeSignalling,
    pump_until,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="the server process needs Redis"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "e2e-auth-token"
CALLER = "+12125550147"
T = TypeVar("T")


def alice() -> Agent:
    return Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="alice")


def twilio_account() -> None:
    agent = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, user__username="alice")
    TwilioAccount.objects.update_or_create(
        organization=agent.organization,
        defaults={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "api_key_sid": KEY_SID,
            "api_key_secret": KEY_SECRET,
            "twiml_app_sid": APP_SID,
        },
    )


def webhook(stack: Stack, path: str, fields: dict[str, str]) -> None:
    """POST a webhook to the server as Twilio does: form fields, signed with the auth token."""
    url = stack.base_url + path
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, fields)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"X-Twilio-Signature": signature},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204), response.status


BASE = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01"}


def first_queue() -> CallQueue:
    queue = db_run(
        lambda: CallQueue.objects.filter(organization__slug=DEMO_ORG_SLUG).order_by("name").first()
    )
    assert queue is not None
    return queue


def alice_leg_status(
    stack: Stack, *, parent_sid: str, leg_sid: str, identity: str, status: str, sequence: int
) -> None:
    """Twilio's status callback for the leg that rings alice's client."""
    agent = f"client:{identity}"
    leg = {"From": CALLER, "To": agent, "Direction": "outbound-dial", "ParentCallSid": parent_sid}
    path = webhook_path("status", Hints(agent=agent, queue=first_queue().pbx_queue_name))
    progress = {"SequenceNumber": str(sequence), "CallbackSource": "call-progress-events"}
    webhook(stack, path, BASE | leg | progress | {"CallSid": leg_sid, "CallStatus": status})


def ring_alice(stack: Stack, *, parent_sid: str, leg_sid: str, identity: str) -> None:
    """A caller waits in the queue, and Twilio rings alice's client for them (what the
    TwiML of connect_agent asks for): the server hears it all through its webhooks."""
    caller = {"From": CALLER, "To": "+18005550100", "Direction": "inbound"}
    voice = webhook_path("voice", Hints(queue=first_queue().pbx_queue_name))
    webhook(stack, voice, BASE | caller | {"CallSid": parent_sid, "CallStatus": "ringing"})
    alice_leg_status(
        stack,
        parent_sid=parent_sid,
        leg_sid=leg_sid,
        identity=identity,
        status="ringing",
        sequence=0,
    )


def twilio_console(chromium: Any, stack: Stack, signalling: FakeSignalling) -> Any:
    context = chromium.new_context(base_url=stack.base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    context.route_web_socket(SIGNAL, signalling.handle)
    # The SDK also reports to Twilio's event gateway over HTTPS: no network here.
    context.route(re.compile(r"^https://[^/]*twilio\.com/"), lambda route: route.abort())
    page = context.new_page()
    page.goto("/console/")
    page.get_by_test_id("login-username").fill("alice")
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    return page


def test_twilio_softphone_registers_renews_rings_in_the_call_card_and_retries(
    web: Stack,  # noqa: F811
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    db_write(twilio_account)
    identity = db_run(alice).twilio_identity
    signalling = FakeSignalling()
    page = twilio_console(browser, web, signalling)
    status = page.get_by_test_id("twilio-status")

    # Registered as alice's own identity, with a short-lived token the server minted.
    expect(status).to_be_visible()
    expect(status).to_have_attribute("data-state", "registered")
    expect(status).to_contain_text(identity)
    expect(page.get_by_test_id("sip-status")).to_have_attribute("data-state", "off")
    first = signalling.of_type("listen")[0]["token"]
    claims = jwt.decode(first, KEY_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == identity
    assert claims["grants"]["voice"]["outgoing"]["application_sid"] == APP_SID
    assert 0 < claims["exp"] - claims["nbf"] <= 600  # TWILIO_TOKEN_TTL_SECONDS
    assert signalling.of_type("register"), "the device registered for incoming calls"

    # Renewed before it expires: a new token from the server, handed to the same socket.
    pump_until(page, lambda: len(signalling.of_type("listen")) >= 2, "the token renewal")
    renewed = signalling.of_type("listen")[1]["token"]
    assert renewed != first
    renewed_claims = jwt.decode(renewed, KEY_SECRET, algorithms=["HS256"])
    assert renewed_claims["grants"]["identity"] == identity
    expect(status).to_have_attribute("data-state", "registered")

    # A caller is put through to alice: her Call card rings, with the Twilio call in it.
    parent_sid, child_sid = "CA" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex
    ring_alice(web, parent_sid=parent_sid, leg_sid=child_sid, identity=identity)
    call_id = db_run(lambda: Call.objects.get(external_id=parent_sid).pk)
    card = page.locator(f"[data-testid=call-card][data-call-id='{call_id}']")
    expect(card).to_have_attribute("data-leg", "offered")
    signalling.invite(call_sid=child_sid, parent_sid=parent_sid, caller=CALLER, identity=identity)
    phone_call = card.get_by_test_id("sip-call")
    expect(phone_call).to_have_attribute("data-state", "ringing")
    expect(card).to_have_attribute("data-sip", "ringing")
    expect(page.get_by_test_id("sip-call-card")).to_have_count(0)  # one card per call
    expect(phone_call.get_by_test_id("sip-answer")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ringtone", "on")
    screenshot(page, tmp_path, "twilio-softphone-ringing")

    # Declined from the console: Twilio is told, the ringing stops.
    phone_call.get_by_test_id("sip-hangup").click()
    pump_until(
        page,
        lambda: any(p.get("callsid") == child_sid for p in signalling.of_type("reject")),
        "the reject to reach Twilio",
    )
    expect(card.get_by_test_id("sip-call")).to_have_count(0)
    expect(page.locator("body")).not_to_have_attribute("data-ringtone", "on")
    # Twilio ends the rejected leg as busy and says so: alice's phone is no longer ringing.
    expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "ringing")
    alice_leg_status(
        web,
        parent_sid=parent_sid,
        leg_sid=child_sid,
        identity=identity,
        status="busy",
        sequence=1,
    )
    expect(page.get_by_test_id("agent-state")).not_to_have_attribute("data-state", "ringing")

    # A refused token is shown and retried with a fresh one; the console goes on meanwhile.
    signalling.refuse_next_token = True
    listens = len(signalling.of_type("listen"))
    page.evaluate("() => { window.ccTwilioPhone.start(); }")  # start over, as after a drop
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text("retrying")
    page.get_by_test_id("state-available").click()
    expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    screenshot(page, tmp_path, "twilio-softphone-refused")
    expect(status).to_have_attribute("data-state", "registered")
    assert len(signalling.of_type("listen")) >= listens + 2  # the refused token, then a new one
