"""An agent pauses and resumes the recording of her call, then plays it back after the
call (on the call's card, in her recent calls and in the calls of the case the call
opened), and a supervisor plays it and a demo recording from the call list, in a real
browser, on the stack of tests/e2e/stack.py (Daphne, the AMI simulator, the bridge). The
organization records every call; the file the PBX wrote reaches the store through the
shared-volume job (run here, as a worker would). Where calls are recorded on demand, the
agent starts the recording from the card."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.models import AuditEntry, CallDisposition, Organization, Recording
from contactcenter.services.recording_files import (
    recordings_collect,
    recordings_storage,
    spool_path,
)
from crm.models import Case
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD
from tests.contactcenter.recorded import tiny_wav
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import Stack, db_run, wait_until

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS


def call_list(browser: Any, stack: Stack, username: str) -> Any:
    """``username`` signed in on /calls/ (a page without a socket: pages.sign_in waits for
    one)."""
    context = browser.new_context(
        base_url=stack.base_url, viewport={"width": 1400, "height": 900}, timezone_id="UTC"
    )
    page = context.new_page()
    page.goto("/calls/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{stack.base_url}/calls/")
    return page


def plays(page: Any, audio: Any, *, longer_than: float) -> None:
    """The ``<audio>`` element (a locator of one) knows its duration from the file's
    header, and plays: its time moves."""
    expect(audio).to_have_count(1)
    handle = audio.element_handle()
    page.wait_for_function(f"a => a.duration > {longer_than}", arg=handle)
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    page.wait_for_function("a => a.currentTime > 0.2", arg=handle)
    audio.evaluate("a => a.pause()")


def test_the_agent_pauses_the_recording_and_plays_it_after_the_call(
    stack: Stack, browser: Any, tmp_path: Path, settings: Any
) -> None:
    settings.RECORDINGS_SPOOL_DIR = str(tmp_path / "monitor")
    db_run(lambda: Organization.objects.filter(slug=DEMO_ORG_SLUG).update(recording_policy="all"))
    console = sign_in(browser, stack, "alice", "/console/")
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    reply = stack.place_inbound_call(
        CallerID='"JOHN SMITH" <+15557654321>', Agents="1001", AnswerAfter="1", Talk="3600"
    )
    assert reply.response == "Success", reply.fields
    card = console.get_by_test_id("call-card")
    expect(card.get_by_test_id("call-status")).to_have_text("Talking")
    state = card.get_by_test_id("recording-state")
    toggle = card.get_by_test_id("recording-toggle")
    expect(state).to_have_text("Recording")

    # The caller's open case (the demo's, from a recorded past call) lists its calls,
    # each with the player; the box stays open while the call's messages redraw the pop.
    demo_case_call = db_run(
        lambda: Recording.objects.get(call__external_id="demo-history-0").call_id
    )
    pop_case = card.get_by_test_id("pop-case").filter(has_text="Router drops")
    pop_case.locator("summary").click()
    linked_demo = pop_case.locator(f"[data-testid=case-call][data-call-id='{demo_case_call}']")
    linked_demo.get_by_test_id("recording-play").click()
    plays(console, linked_demo.get_by_test_id("recording-audio"), longer_than=2.5)

    toggle.click()
    expect(state).to_have_text("Recording paused")
    expect(toggle).to_have_text("Resume recording")
    screenshot(console, tmp_path, "recording-paused")
    toggle.click()
    expect(state).to_have_text("Recording")
    expect(linked_demo.get_by_test_id("recording-audio")).to_be_visible()

    card.get_by_test_id("call-hangup").click()
    expect(card.get_by_test_id("recording-row")).to_be_hidden()
    # The card's own player (the pop's case has players of its own).
    playback = card.locator(":scope > [data-testid=recording-playback]")
    expect(playback.get_by_test_id("recording-play")).to_be_visible()

    def ended() -> Recording | None:
        return Recording.objects.filter(
            organization__slug=DEMO_ORG_SLUG, status=RecordingStatus.ENDED
        ).first()

    wait_until(lambda: db_run(ended) is not None, "the recording to end with the call")
    rec = db_run(ended)
    assert rec is not None and len(rec.paused_spans) == 1, rec
    # The PBX's file on the shared volume, then the worker's job.
    path = spool_path(rec.pbx_filename)
    assert path is not None and path.is_relative_to(django_settings.RECORDINGS_SPOOL_DIR)
    tiny_wav(path, seconds=3)
    assert db_run(recordings_collect).stored == 1

    playback.get_by_test_id("recording-play").click()
    plays(console, playback.get_by_test_id("recording-audio"), longer_than=2.9)
    screenshot(console, tmp_path, "recording-playback")

    # Wrapped up with a disposition that opens a case: the card goes, the call is among
    # her recent calls and the case's calls, with the same player.
    tech_issue = db_run(
        lambda: CallDisposition.objects.get(organization__slug=DEMO_ORG_SLUG, code="tech-issue")
    )
    card.get_by_test_id("disposition-select").select_option(str(tech_issue.pk))
    card.get_by_test_id("disposition-save").click()
    expect(console.get_by_test_id("call-card")).to_have_count(0)
    recent = console.locator(f"[data-testid=recent-call][data-call-id='{rec.call_id}']")
    expect(recent).to_have_attribute("data-recording", "done")
    recent.get_by_test_id("recording-play").click()
    plays(console, recent.get_by_test_id("recording-audio"), longer_than=2.9)
    screenshot(console, tmp_path, "recent-call-playback")

    case = db_run(lambda: Case.objects.get(source_call_id=rec.call_id))
    case_item = console.locator(f"[data-testid=case-item][data-case-id='{case.pk}']")
    case_item.locator("summary").click()
    linked = case_item.locator(f"[data-testid=case-call][data-call-id='{rec.call_id}']")
    linked.get_by_test_id("recording-play").click()
    plays(console, linked.get_by_test_id("recording-audio"), longer_than=2.9)

    # A supervisor plays it from the call list, and a demo call's recording too.
    calls = call_list(browser, stack, "supervisor")
    item = calls.locator(f"[data-testid=calls-item][data-call-id='{rec.call_id}']")
    expect(item).to_contain_text("Alice")
    item.get_by_test_id("recording-play").click()
    plays(calls, item.get_by_test_id("recording-audio"), longer_than=2.9)
    demo_call = db_run(
        lambda: Recording.objects.get(call__external_id="demo-history-3").call_id  # bob's
    )
    demo = calls.locator(f"[data-testid=calls-item][data-call-id='{demo_call}']")
    demo.get_by_test_id("recording-play").click()
    plays(calls, demo.get_by_test_id("recording-audio"), longer_than=2.5)
    show = calls.get_by_test_id("calls-filters").locator("button[type=submit]")
    items = calls.get_by_test_id("calls-item")
    calls.get_by_test_id("calls-recorded").check()
    show.click()
    expect(items).to_have_count(4)  # the three demo calls and hers
    screenshot(calls, tmp_path, "supervisor-call-list")
    calls.get_by_test_id("calls-agent").select_option(label="Bob Jones")
    show.click()
    expect(items).to_have_count(1)
    expect(items).to_have_attribute("data-call-id", str(demo_call))
    calls.get_by_test_id("calls-agent").select_option("")
    calls.get_by_test_id("calls-from").fill(datetime.now(UTC).date().isoformat())
    show.click()
    expect(items).to_have_count(1)  # the demo's calls are days ago
    expect(items).to_have_attribute("data-call-id", str(rec.call_id))
    played = db_run(
        lambda: list(
            AuditEntry.objects.filter(action="recording.play", object_id=str(rec.pk)).values_list(
                "actor_label", flat=True
            )
        )
    )
    assert set(played) == {"alice", "supervisor"} and len(played) >= 4, "each play is audited"
    # The stored file is in the installation's store (var/): not left behind.
    db_run(lambda: recordings_storage().delete(Recording.objects.get(pk=rec.pk).storage_key))


def test_the_agent_starts_the_recording_where_calls_are_recorded_on_demand(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    db_run(
        lambda: Organization.objects.filter(slug=DEMO_ORG_SLUG).update(
            recording_policy=RecordingPolicy.ON_DEMAND
        )
    )
    console = sign_in(browser, stack, "alice", "/console/")
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    reply = stack.place_inbound_call(
        CallerID='"JOHN SMITH" <+15557654321>', Agents="1001", AnswerAfter="1", Talk="3600"
    )
    assert reply.response == "Success", reply.fields
    card = console.get_by_test_id("call-card")
    expect(card.get_by_test_id("call-status")).to_have_text("Talking")
    # Nothing records the call: the card offers to, and shows no pause.
    start = card.get_by_test_id("recording-start")
    expect(start).to_be_visible()
    expect(card.get_by_test_id("recording-row")).to_be_hidden()
    start.click()
    state = card.get_by_test_id("recording-state")
    expect(state).to_have_text("Recording")
    expect(start).to_be_hidden()
    card.get_by_test_id("recording-toggle").click()
    expect(state).to_have_text("Recording paused")
    screenshot(console, tmp_path, "recording-on-demand-paused")
    started = db_run(
        lambda: list(
            AuditEntry.objects.filter(action="pbx.recording_start").values_list(
                "actor_label", flat=True
            )
        )
    )
    assert len(started) == 1, started
    card.get_by_test_id("call-hangup").click()
    expect(card.get_by_test_id("recording-play")).to_be_visible()
