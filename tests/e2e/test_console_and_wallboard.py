"""End to end in a real browser (Playwright driving Debian's Chromium): an agent takes a
simulated call in the console while a supervisor watches the wallboard.

Daphne, the AMI simulator and the bridge run as their own processes on the test
database and Redis (tests/e2e/stack.py). Screenshots of both pages are written to the
test's tmp dir, and to ``$E2E_SCREENSHOT_DIR`` when it is set; so is what each page
wrote to its browser console (``<user>-console.log``), the first place to look when a
page misbehaved.

Every wait is on something the page or a process shows, with a generous upper bound
(a shared 2-core CI machine under a full suite can be slow by seconds); none is a
sleep.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection

from contactcenter.models import Call, CallDisposition, CallQueue
from contactcenter.services.calls import call_set_disposition
from crm.models import Case
from provisioning.demo import DEMO_ORG_SLUG
from tests.e2e.pages import (
    STACK_MARKS,
    Page,
    SocketRelay,
    browser,
    expect,
    screenshot,
    sign_in,
    stack,
)
from tests.e2e.stack import Stack, database_url, db_run, wait_until

__all__ = ["browser", "stack"]  # fixtures


T = TypeVar("T")
CALLER = "+15557654321"  # John Smith, a contact of seed_demo
# An upper bound, not a delay: a reconnection (the backoff alone may wait up to 15 s
# after the server is back).
RECONNECT_TIMEOUT_MS = 60_000
# How long the simulated phone rings before it answers: the ringing state must reach
# the pages (PBX -> bridge -> DB -> Redis -> Daphne -> browser) within it, even late.
RING_SECONDS = "15"
# The figures a queue tile shows, by the names /api/v1/wallboard/ gives them.
FIGURES = (
    "callers_waiting",
    "longest_wait_seconds",
    "offered",
    "answered",
    "abandoned",
    "service_level_percent",
    "asa_seconds",
    "aht_seconds",
    "abandon_rate_percent",
    "agents_by_state",
)

pytestmark = STACK_MARKS


def _database_url() -> str:
    return database_url(connection.settings_dict)


def pump_until(page: Page, check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """wait_until for what the relay sees: its handlers run only while Playwright is
    called, so poll through Playwright (the 100 ms is the polling step, not a delay)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def tile_figures(page: Page, queue_id: int) -> dict[str, Any]:
    tile = page.locator(f"[data-testid=queue-tile][data-queue-id='{queue_id}']")
    return {
        name: json.loads(tile.get_by_test_id(f"figure-{name}").get_attribute("data-value") or "")
        for name in FIGURES
    }


def test_agent_takes_a_call_that_opens_a_case_while_the_wallboard_follows(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    support = db_run(
        lambda: CallQueue.objects.get(organization__slug=DEMO_ORG_SLUG, pbx_queue_name="support")
    )
    tech_issue = db_run(
        lambda: CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="tech-issue")
    )
    assert tech_issue.requires_case_creation

    # An alert while anyone waits in support (docs/supervisor.md#alerts).
    db_run(lambda: CallQueue.objects.filter(pk=support.pk).update(alert_callers_waiting=0))

    board = sign_in(browser, stack, "supervisor", "/wallboard/")
    tile = board.locator(f"[data-testid=queue-tile][data-queue-id='{support.pk}']")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "0")
    alerts = board.get_by_test_id("alerts")
    expect(alerts).to_be_hidden()
    floor = sign_in(browser, stack, "supervisor", "/supervisor/")
    floor_alerts = floor.get_by_test_id("alerts").get_by_test_id("alert")
    expect(floor_alerts).to_have_count(0)

    console = sign_in(browser, stack, "alice", "/console/")
    status = console.get_by_test_id("command-status")

    # Available: through agent.set_state, and unpaused in the PBX's queues by the bridge.
    console.get_by_test_id("state-available").click()
    expect(status).to_have_attribute("data-result", "ok")
    expect(status).to_contain_text("phone system confirmed")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    alice_on_board = tile.locator("[data-testid=board-agent]", has_text="Alice Smith")
    expect(alice_on_board).to_have_attribute("data-state", "available")

    # A caller joins the support queue; alice's phone rings before she answers. The
    # caller would hang up after Talk seconds: far beyond the test, however slow.
    reply = stack.place_inbound_call(
        CallerID=f'"JOHN SMITH" <{CALLER}>',
        Queue="support",
        Agents="1001",
        AnswerAfter=RING_SECONDS,
        Talk="3600",
    )
    assert reply.response == "Success", reply.fields

    card = console.get_by_test_id("call-card")
    expect(card).to_have_attribute("data-leg", "offered")
    expect(card.get_by_test_id("call-status")).to_have_text("Ringing")
    expect(card.get_by_test_id("caller-number")).to_have_text(CALLER)
    expect(card.get_by_test_id("pop-contact")).to_contain_text("John Smith")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "1")
    expect(tile.get_by_test_id("figure-offered")).to_have_attribute("data-value", "1")
    alert = alerts.locator(f"[data-testid=alert][data-queue-id='{support.pk}']")
    expect(alert).to_have_attribute("data-kind", "callers_waiting")
    expect(alert).to_have_text("Support Callers waiting: 1 (above 0)")
    expect(tile).to_have_class("tile alerting")
    # The supervisor page lists it too.
    expect(floor_alerts).to_have_text(["Support Callers waiting: 1 (above 0)"])
    screenshot(console, tmp_path, "console-ringing")
    screenshot(board, tmp_path, "wallboard-waiting")

    # The phone answers: the console and the wallboard follow the PBX.
    expect(card).to_have_attribute("data-status", "in_progress")
    expect(card.get_by_test_id("call-status")).to_have_text("Talking")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "on_call")
    expect(tile.get_by_test_id("figure-answered")).to_have_attribute("data-value", "1")
    expect(tile.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "0")
    expect(alice_on_board).to_have_attribute("data-state", "on_call")
    call_id = int(card.get_attribute("data-call-id") or 0)
    assert db_run(lambda: Call.objects.get(pk=call_id)).caller_number == CALLER

    # Hang up from the console: call.hangup through the bridge to the PBX.
    card.get_by_test_id("call-hangup").click()
    expect(status).to_have_attribute("data-command", "call.hangup")
    expect(status).to_have_attribute("data-result", "ok")
    expect(card).to_have_attribute("data-status", "completed")
    # The PBX frees alice at once (she is not put in wrap-up): the form shows anyway.
    expect(card.get_by_test_id("disposition-form")).to_be_visible()

    # Wrap-up: a disposition that opens a case, with notes.
    card.get_by_test_id("disposition-select").select_option(str(tech_issue.pk))
    card.get_by_test_id("disposition-notes").fill("Router drops every evening.")
    card.get_by_test_id("disposition-save").click()
    expect(console.get_by_test_id("call-card")).to_have_count(0)  # call.removed
    call = db_run(lambda: Call.objects.get(pk=call_id))
    assert (call.disposition_id, call.notes) == (tech_issue.pk, "Router drops every evening.")

    # The case the disposition opened arrives as case.created.
    case_item = console.get_by_test_id("case-item")
    expect(case_item).to_have_count(1)
    case = db_run(lambda: Case.objects.get(source_call_id=call_id))
    expect(case_item).to_have_attribute("data-case-id", str(case.pk))
    expect(case_item).to_contain_text(case.reference)

    # The wallboard's figures equal the API's, computed from the stored calls.
    api = board.request.get("/api/v1/wallboard/")
    assert api.ok, api.text()
    row = next(q for q in api.json()["queues"] if q["queue_id"] == support.pk)
    assert (row["offered"], row["answered"], row["callers_waiting"]) == (1, 1, 0)
    assert row["aht_seconds"] is not None  # the call is completed and counted
    wanted = {name: row[name] for name in FIGURES}
    wait_until(lambda: tile_figures(board, support.pk) == wanted, "the wallboard to match the API")
    screenshot(console, tmp_path, "console-case-opened")
    screenshot(board, tmp_path, "wallboard-answered")

    # Nobody has waited since the answer: the alert clears by itself once that has
    # lasted QUEUE_ALERT_CLEAR_SECONDS (30), with no event to prompt it.
    expect(alerts).to_be_hidden(timeout=RECONNECT_TIMEOUT_MS)
    expect(tile).to_have_class("tile")
    expect(floor_alerts).to_have_count(0)


def test_click_to_call_then_offline_and_rebuilt_when_the_server_comes_back(
    stack: Stack, browser: Any
) -> None:
    board = sign_in(browser, stack, "supervisor", "/wallboard/")
    console = sign_in(browser, stack, "alice", "/console/")
    status = console.get_by_test_id("command-status")

    # Click-to-call: call.originate through the bridge; the PBX rings alice's phone,
    # then dials the customer, whose record pops.
    console.get_by_test_id("dial-number").fill("+1 212 555 0147")
    console.get_by_test_id("dial-call").click()
    expect(status).to_have_attribute("data-command", "call.originate")
    expect(status).to_have_attribute("data-result", "ok")
    card = console.get_by_test_id("call-card")
    expect(card.get_by_test_id("caller-number")).to_have_text("+12125550147")
    expect(card.get_by_test_id("pop-contact")).to_contain_text("Wei Chen")
    # The call's first message names alice's leg connected before the PBX rings her phone
    # (the originate): only an answered call is the talk this test hangs up.
    expect(card).to_have_attribute("data-status", "in_progress")
    expect(card).to_have_attribute("data-leg", "connected")
    card.get_by_test_id("call-hangup").click()
    expect(status).to_have_attribute("data-command", "call.hangup")
    expect(status).to_have_attribute("data-result", "ok")
    expect(card).to_have_attribute("data-live", "false")
    call_id = int(card.get_attribute("data-call-id") or 0)

    # A bad number is refused in the page, with the reason.
    console.get_by_test_id("dial-number").fill("call me")
    console.get_by_test_id("dial-call").click()
    expect(status).to_have_attribute("data-result", "error")
    expect(status).to_contain_text("digits")

    # A pause needs a reason: refused in the page without one, then set with one.
    console.get_by_test_id("state-paused").click()
    expect(status).to_have_attribute("data-result", "error")
    expect(status).to_contain_text("needs a reason")
    console.get_by_test_id("pause-reason").fill("lunch")
    console.get_by_test_id("state-paused").click()
    expect(status).to_contain_text("phone system confirmed")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "paused")
    expect(
        board.locator("[data-testid=board-agent]", has_text="Alice Smith").first
    ).to_contain_text("(lunch)")

    console.get_by_test_id("state-wrap_up").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")

    stack.processes["daphne"].stop()
    for page in (console, board):
        expect(page.get_by_test_id("offline-banner")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-connection", "offline")
    # While offline a command is refused at once, with the reason shown.
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("command-status")).to_have_attribute("data-result", "error")
    expect(console.get_by_test_id("command-status")).to_contain_text("Not connected")
    # Meanwhile the call is wrapped up elsewhere (the REST API, the PBX): the snapshot
    # after the reconnection no longer has it, and the page must follow.
    expect(card).to_have_count(1)

    def wrap_up_elsewhere() -> None:
        resolved = CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="resolved")
        call_set_disposition(call=Call.objects.get(pk=call_id), disposition=resolved, actor=None)

    db_run(wrap_up_elsewhere)

    stack.start_web()  # the same port: the pages reconnect by themselves
    for page in (console, board):
        expect(page.get_by_test_id("offline-banner")).to_be_hidden(timeout=RECONNECT_TIMEOUT_MS)
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
    # Rebuilt from the new snapshot.
    expect(card).to_have_count(0)
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")
    expect(board.get_by_test_id("queue-tile")).to_have_count(2)


def test_wrap_up_notes_survive_messages_a_dropped_connection_and_a_reload(
    stack: Stack, browser: Any
) -> None:
    """What an agent types in the wrap-up form is theirs: no message, reconnection or
    reload may take it. (Each message used to re-insert the call cards, which took the
    focus from the notes box: what was typed next went nowhere.)"""
    relay = SocketRelay()
    console = sign_in(browser, stack, "alice", "/console/", relay)
    status = console.get_by_test_id("command-status")
    tech_issue = db_run(
        lambda: CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="tech-issue")
    )

    # A call to wrap up: click-to-call, then hang up.
    console.get_by_test_id("dial-number").fill("+12125550147")
    console.get_by_test_id("dial-call").click()
    card = console.get_by_test_id("call-card")
    expect(card).to_have_attribute("data-status", "in_progress")  # answered, as above
    expect(card).to_have_attribute("data-leg", "connected")
    card.get_by_test_id("call-hangup").click()
    expect(status).to_have_attribute("data-command", "call.hangup")
    expect(status).to_have_attribute("data-result", "ok")
    expect(card).to_have_attribute("data-live", "false")
    call_id = int(card.get_attribute("data-call-id") or 0)
    notes = card.get_by_test_id("disposition-notes")
    card.get_by_test_id("disposition-select").select_option(str(tech_issue.pk))

    # The agent types; a message arrives mid-sentence (a queue's figures, which redraw the
    # calls); the agent types on without clicking back into the box.
    notes.click()
    console.keyboard.type("Router drops ")
    snapshot = relay.last("snapshot")
    queue = {**snapshot["data"]["queues"][0], "callers_waiting": 7}
    relay.deliver(
        {"type": "queue.stats", "seq": 10_000, "ts": snapshot["ts"], "data": {"queue": queue}}
    )
    row = console.locator(f"[data-testid=queue-row][data-queue-id='{queue['queue_id']}']")
    expect(row.get_by_test_id("queue-waiting")).to_have_text("7")  # the message was applied
    console.keyboard.type("every evening.")
    expect(notes).to_be_focused()
    expect(notes).to_have_value("Router drops every evening.")

    # The connection drops: the page reconnects and rebuilds from a new snapshot, and
    # keeps what was typed (and the focus, and the disposition picked).
    relay.drop()
    expect(console.locator("body")).to_have_attribute(
        "data-connection", "online", timeout=RECONNECT_TIMEOUT_MS
    )
    pump_until(
        console,
        lambda: (
            len(relay.messages) == 2 and any(f["type"] == "snapshot" for f in relay.messages[1])
        ),
        "the page to reconnect and get a snapshot",
    )
    expect(console.locator("body")).to_have_attribute("data-connection", "online")
    console.keyboard.type(" Since Monday.")
    expect(notes).to_have_value("Router drops every evening. Since Monday.")
    expect(card.get_by_test_id("disposition-select")).to_have_value(str(tech_issue.pk))

    # A reload rebuilds the card from nothing: the unsaved notes come back.
    console.reload()
    expect(console.locator("body")).to_have_attribute("data-connection", "online")
    expect(notes).to_have_value("Router drops every evening. Since Monday.")

    card.get_by_test_id("disposition-select").select_option(str(tech_issue.pk))
    card.get_by_test_id("disposition-save").click()
    expect(card).to_have_count(0)  # call.removed: the disposition is stored
    call = db_run(lambda: Call.objects.get(pk=call_id))
    assert (call.disposition_id, call.notes) == (
        tech_issue.pk,
        "Router drops every evening. Since Monday.",
    )
    drafts = "Object.keys(sessionStorage).filter((k) => k.startsWith('contactcenter.notes.'))"
    assert console.evaluate(drafts) == []  # saved: the draft is gone
