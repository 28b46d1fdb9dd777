"""The console and the wallboard as people use them (issue 24), in a real browser.

An agent in the demo saw ended calls pile up in full, a call ring while she talked on
another, a disposition saved during a call leave no trace on its card, the state badge
claim "available" and restart its timer in the middle of a call, the state line of an
agent whose state never changed read "Offline for" with no time, the softphone's badge
cover the call card on a narrow window; a supervisor saw the "All queues" tile never
flag its longest wait and the update time in the browser's zone beside "today in
America/New_York". Each test here runs the stack of tests/e2e/stack.py (Daphne, the
AMI simulator, the bridge) like test_console_and_wallboard.py, whose fixtures it uses.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from contactcenter.enums import AgentState, CallStatus
from contactcenter.models import Agent, Call, CallDisposition, CallQueue
from provisioning.demo import DEMO_ORG_SLUG
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import Stack, db_run, wait_until
from tests.factories import make_call

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS

JOHN, MARIA, WEI, PRIYA = "+15557654321", "+15559876543", "+12125550147", "+15551112222"
SHOWN_WIDTHS = (360, 420, 768, 1400, 1920)  # checked and photographed
SWEEP = range(360, 1921, 80)  # checked: 360, 440, ... 1880, between the steps of the layout


def seconds(text: str) -> int:
    """ "1:05" -> 65, "1:00:05" -> 3605 (the console's durations)."""
    total = 0
    for part in text.strip().split(":"):
        total = total * 60 + int(part)
    return total


def answered_by_someone_else(caller: str, alice: Agent) -> None:
    """Wait until the PBX gave the call from ``caller`` to another agent."""

    def taken() -> bool:
        call = db_run(lambda: Call.objects.filter(caller_number=caller).first())
        return call is not None and call.answered_at is not None and call.agent_id != alice.pk

    wait_until(taken, f"the call from {caller} to be answered by another agent", timeout=60)


# What covers a call card, and what runs past its box (a function run in the page).
LAYOUT_PROBLEMS = (Path(__file__).parent / "layout_problems.js").read_text()
# The buttons whose text cannot be read on their background (a function run in the page).
LOW_CONTRAST = (Path(__file__).parent / "low_contrast.js").read_text()


def test_the_state_follows_the_phone_wrap_up_pauses_and_the_board_flags_and_dates(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    def setup() -> tuple[Agent, CallDisposition, str]:
        # A service level of 3 s, so a caller is late within the test's patience.
        CallQueue.objects.filter(organization__slug=DEMO_ORG_SLUG).update(service_level_seconds=3)
        alice = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, extension="1001")
        resolved = CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="resolved")
        return alice, resolved, alice.organization.time_zone

    alice, resolved, zone = db_run(setup)
    # The supervisor's browser runs on Tokyo time; the organization is in New York.
    board = sign_in(
        browser, stack, "supervisor", "/wallboard/", timezone_id="Asia/Tokyo", locale="en-US"
    )
    console = sign_in(browser, stack, "alice", "/console/")
    status = console.get_by_test_id("command-status")
    badge = console.get_by_test_id("agent-state")
    console.get_by_test_id("state-available").click()
    expect(status).to_contain_text("phone system confirmed")
    expect(badge).to_have_attribute("data-state", "available")

    # "Updated" is the last message's time in the organization's zone, and says which.
    expect(board.get_by_test_id("updated")).to_have_attribute("datetime", re.compile(r"Z$"))
    stamp, shown = board.evaluate(  # both at once: a message may come between two reads
        "() => { const el = document.querySelector('[data-testid=updated]');"
        " return [el.dateTime, el.textContent]; }"
    )
    at = datetime.fromisoformat(stamp).astimezone(ZoneInfo(zone))
    assert f"{at.hour % 12 or 12}:{at.minute:02d}:{at.second:02d}" in shown, (stamp, shown)
    assert at.strftime("%Z") in shown, shown  # EST or EDT, not Tokyo's time

    # A call alice answers; then she signs in again (a reload) while on it.
    reply = stack.place_inbound_call(
        CallerID=f'"JOHN SMITH" <{JOHN}>', Agents="1001", AnswerAfter="1", Talk="3600"
    )
    assert reply.response == "Success", reply.fields
    card = console.get_by_test_id("call-card")
    expect(card.get_by_test_id("call-status")).to_have_text("Talking")
    console.reload()
    expect(console.locator("body")).to_have_attribute("data-connection", "online")
    expect(badge).to_have_attribute("data-state", "on_call")
    timer = card.locator("[data-role=timer]")
    expect(timer).to_have_text(re.compile(r"^0:(0[5-9]|[1-5]\d)$"))  # 5 s into the call

    # "Available" during the call: for after it. The badge and its timer stay the call's.
    console.get_by_test_id("state-available").click()
    expect(status).to_have_attribute("data-applied", "later")
    expect(status).to_contain_text("after this call")
    expect(status).not_to_contain_text("done")
    expect(badge).to_have_attribute("data-state", "on_call")
    since = console.get_by_test_id("state-since")
    state_for, call_for = console.evaluate(
        "() => [document.querySelector('[data-testid=state-since]').textContent,"
        " document.querySelector('[data-testid=call-card] [data-role=timer]').textContent]"
    )
    assert seconds(state_for) >= 5 and abs(seconds(state_for) - seconds(call_for)) <= 2, (
        state_for,
        call_for,
    )
    expect(since).not_to_have_text("0:00")
    screenshot(console, tmp_path, "ux-on-call-available-later")

    # While she talks, a call meant for her rings a free colleague instead (ringinuse=no).
    stack.place_inbound_call(
        CallerID=f'"MARIA GARCIA" <{MARIA}>', Agents="1001", AnswerAfter="1", Talk="3600"
    )
    answered_by_someone_else(MARIA, alice)
    expect(console.get_by_test_id("call-card")).to_have_count(1)

    # A disposition saved during the call says so on the card, and can be changed.
    card.get_by_test_id("disposition-select").select_option(str(resolved.pk))
    card.get_by_test_id("disposition-save").click()
    saved = card.get_by_test_id("disposition-saved")
    expect(saved).to_be_visible()
    expect(saved).to_contain_text(f"Saved: {resolved.name}")
    expect(card.get_by_test_id("disposition-form")).to_be_hidden()
    card.get_by_test_id("disposition-change").click()
    expect(card.get_by_test_id("disposition-form")).to_be_visible()
    expect(card.get_by_test_id("disposition-select")).to_have_value(str(resolved.pk))
    # Hung up with its disposition saved: nothing is left to wrap up, the card goes.
    card.get_by_test_id("call-hangup").click()
    expect(console.get_by_test_id("call-card")).to_have_count(0)
    expect(badge).to_have_attribute("data-state", "available")

    # Wrap-up pauses her in the PBX's queues: a call meant for her goes to a colleague.
    console.get_by_test_id("state-wrap_up").click()
    expect(status).to_contain_text("phone system confirmed")
    expect(badge).to_have_attribute("data-state", "wrap_up")
    alice_on_board = board.locator("[data-testid=board-agent]", has_text="Alice Smith").first
    expect(alice_on_board).to_have_attribute("data-state", "wrap_up")
    # The supervisor's buttons under each agent can be read (they were white on white).
    expect(alice_on_board.get_by_test_id("agent-pause")).to_be_visible()
    assert board.evaluate(LOW_CONTRAST) == []
    # This caller waits 12 s for the colleague's phone: past the 3 s service level, the
    # queue's and the "All queues" tile's longest waits turn red as they tick.
    stack.place_inbound_call(
        CallerID=f'"PRIYA PATEL" <{PRIYA}>', Agents="1001", AnswerAfter="12", Talk="3600"
    )
    support = board.locator("[data-testid=queue-tile][data-queue-name=Support]")
    late = re.compile(r"\balert\b")
    expect(support.get_by_test_id("figure-callers_waiting")).to_have_attribute("data-value", "1")
    expect(support.get_by_test_id("figure-longest_wait_seconds")).to_have_class(late)
    totals = board.get_by_test_id("totals-tile")
    expect(totals.get_by_test_id("figure-longest_wait_seconds")).to_have_class(late)
    screenshot(board, tmp_path, "ux-wallboard-late")
    answered_by_someone_else(PRIYA, alice)
    expect(console.get_by_test_id("call-card")).to_have_count(0)
    expect(badge).to_have_attribute("data-state", "wrap_up")  # not "paused (wrap-up)"
    expect(totals.get_by_test_id("figure-longest_wait_seconds")).not_to_have_class(late)


def test_ended_calls_wait_compact_one_form_at_a_time_and_the_layout_holds(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    def ended_calls() -> tuple[int, int, int]:
        alice = Agent.objects.get(organization__slug=DEMO_ORG_SLUG, extension="1001")
        support = CallQueue.objects.get(organization__slug=DEMO_ORG_SLUG, pbx_queue_name="support")
        ids = []
        for caller, minutes in ((MARIA, 10), (WEI, 5)):
            call = make_call(alice.organization, agent=alice, queue=support, caller_number=caller)
            end = timezone.now() - timedelta(minutes=minutes)
            Call.objects.filter(pk=call.pk).update(
                status=CallStatus.COMPLETED,
                started_at=end - timedelta(seconds=200),
                queued_at=end - timedelta(seconds=200),
                answered_at=end - timedelta(seconds=180),
                ended_at=end,
                talk_seconds=180,
            )
            ids.append(call.pk)
        resolved = CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="resolved")
        return ids[0], ids[1], resolved.pk

    # Two calls alice has not wrapped up yet (the older first), from known customers.
    older_id, newer_id, resolved_id = db_run(ended_calls)
    console = sign_in(browser, stack, "alice", "/console/")
    older = console.locator(f"[data-testid=call-card][data-call-id='{older_id}']")
    newer = console.locator(f"[data-testid=call-card][data-call-id='{newer_id}']")
    # Both compact, their pops folded; only the newer one shows the wrap-up form.
    for card in (older, newer):
        expect(card).to_have_class(re.compile(r"\bcompact\b"))
        expect(card.get_by_test_id("call-pop")).to_be_hidden()
    expect(newer.get_by_test_id("disposition-form")).to_be_visible()
    expect(older.get_by_test_id("disposition-form")).to_be_hidden()
    expect(older.get_by_test_id("open-wrapup")).to_be_visible()
    assert (older.bounding_box() or {"height": 999})["height"] < 110  # a line, not a page
    newer.get_by_text("Caller details").click()  # a folded pop opens on demand
    expect(newer.get_by_test_id("pop-contact")).to_contain_text("Wei Chen")

    # A live call comes on top, in full.
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    stack.place_inbound_call(
        CallerID=f'"JOHN SMITH" <{JOHN}>', Agents="1001", AnswerAfter="1", Talk="25"
    )
    expect(console.get_by_test_id("call-card").first).to_have_attribute("data-live", "true")
    live_id = console.get_by_test_id("call-card").first.get_attribute("data-call-id")
    live = console.locator(f"[data-testid=call-card][data-call-id='{live_id}']")
    expect(live.get_by_test_id("call-status")).to_have_text("Talking")
    expect(live.get_by_test_id("pop-contact")).to_contain_text("John Smith")
    expect(console.get_by_test_id("call-card")).to_have_count(3)
    assert console.evaluate(LOW_CONTRAST) == []

    # From a phone to a wide screen: no sideways scrolling, nothing over a call card,
    # no panel's content (the queue table) past its edge.
    for width in sorted({*SHOWN_WIDTHS, *SWEEP}):
        console.set_viewport_size({"width": width, "height": 800})
        if width in SHOWN_WIDTHS:
            screenshot(console, tmp_path, f"ux-console-{width}")
        assert console.evaluate(LAYOUT_PROBLEMS) == [], f"at {width} px"
    console.set_viewport_size({"width": 1400, "height": 900})

    # The agent picks the older call to wrap up: its form opens, the newer one folds.
    older.get_by_test_id("open-wrapup").click()
    expect(older).to_have_attribute("data-expanded", "true")
    expect(newer).to_have_attribute("data-expanded", "false")
    notes = older.get_by_test_id("disposition-notes")
    expect(notes).to_be_focused()
    console.keyboard.type("Asked about ")
    # The live call ends meanwhile: a third card to wrap up, compact, folded; the one
    # being wrapped up keeps its form, the focus and what was typed.
    expect(live).to_have_attribute("data-live", "false", timeout=90_000)  # Talk: 25 s
    expect(live).to_have_attribute("data-expanded", "false")
    expect(live.get_by_test_id("call-pop")).to_be_hidden()
    expect(older).to_have_attribute("data-expanded", "true")
    console.keyboard.type("the invoice.")
    expect(notes).to_have_value("Asked about the invoice.")
    older.get_by_test_id("disposition-select").select_option(str(resolved_id))
    older.get_by_test_id("disposition-save").click()
    expect(older).to_have_count(0)
    # The next one to wrap up is the newest: the call that just ended.
    expect(live).to_have_attribute("data-expanded", "true")
    expect(console.get_by_test_id("call-card")).to_have_count(2)
    console.set_viewport_size({"width": 360, "height": 800})
    assert console.evaluate(LAYOUT_PROBLEMS) == [], "at 360 px, after the call"
    screenshot(console, tmp_path, "ux-console-360-wrap-up")


def test_the_state_line_says_for_how_long_only_when_the_change_is_known(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    def never_changed() -> None:
        # As a new agent is: offline, with no time of a change of state.
        Agent.objects.filter(organization__slug=DEMO_ORG_SLUG, extension="1001").update(
            state=AgentState.OFFLINE, state_reason="", state_changed_at=None
        )

    db_run(never_changed)
    console = sign_in(browser, stack, "alice", "/console/")
    badge = console.get_by_test_id("agent-state")
    line = console.get_by_test_id("state-line")
    expect(badge).to_have_attribute("data-state", "offline")
    # What she reads: "Offline", without a "for" that has no time after it.
    expect(line).not_to_contain_text("for", use_inner_text=True)
    expect(console.get_by_test_id("state-since")).to_be_hidden()
    screenshot(console, tmp_path, "ux-state-never-changed")

    # Once her state changes, the line says for how long, back to offline as well.
    status = console.get_by_test_id("command-status")
    for choice in ("available", "offline"):
        console.get_by_test_id(f"state-{choice}").click()
        expect(status).to_contain_text(f"State {choice}: done")
        expect(badge).to_have_attribute("data-state", choice)
        shown = re.compile(rf"^\s*{choice}\s+for\s+\d+:\d\d\s*$", re.IGNORECASE)
        expect(line).to_have_text(shown, use_inner_text=True)
    console.reload()  # and from the snapshot
    expect(console.locator("body")).to_have_attribute("data-connection", "online")
    expect(line).to_have_text(shown, use_inner_text=True)
