"""The supervisor page in a real browser (issue 31): the supervisor starts listening to
alice's call, switches to whisper, pauses bob, and sees each take effect on the page and
in alice's and bob's consoles. The demo stack (Daphne, the bridge, the AMI simulator as
their own processes) carries each command to the PBX and the PBX's report back; the
supervisor's phone (2201, in no queue) is a phone of the simulated PBX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contactcenter.models import AuditEntry, CallEvent, Organization, User
from contactcenter.services.organizations import organization_update
from provisioning.demo import DEMO_ORG_SLUG
from tests.e2e.monitored import (
    CALLER,
    call_for_alice,
    demo_agent,
    floor_row,
    make_available,
    stack,
)
from tests.e2e.pages import STACK_MARKS, browser, db_write, expect, screenshot, sign_in
from tests.e2e.stack import Stack, db_run

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS


def _agents_are_told() -> None:
    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    organization_update(organization=organization, agents_see_monitoring=True)


def test_listen_then_whisper_then_pause_bob(stack: Stack, browser: Any, tmp_path: Path) -> None:
    db_write(_agents_are_told)
    alice, bob = demo_agent("1001"), demo_agent("1002")

    alice_console = sign_in(browser, stack, "alice", "/console/")
    make_available(alice_console)
    bob_console = sign_in(browser, stack, "bob", "/console/")
    expect(bob_console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")

    page = sign_in(browser, stack, "supervisor", "/supervisor/")
    expect(page.get_by_test_id("no-phone")).to_be_hidden()
    expect(page.locator("#alerts")).to_have_count(1)
    alice_row, bob_row = floor_row(page, alice), floor_row(page, bob)
    expect(bob_row).to_have_attribute("data-state", "available")

    call = call_for_alice(stack, alice_row)
    card = alice_console.get_by_test_id("call-card")
    expect(card).to_have_attribute("data-status", "in_progress")
    expect(call).to_contain_text(CALLER)
    expect(call).to_contain_text("Support")

    # Listen: the supervisor's phone rings with ChanSpy; the page shows the session. A
    # supervisor only listening is never shown to the agent.
    alice_row.get_by_test_id("monitor-listen").click()
    expect(page.get_by_test_id("floor-message")).to_have_attribute("data-result", "ok")
    expect(call).to_have_attribute("data-monitor-mode", "listen")
    expect(call.get_by_test_id("call-monitor")).to_have_text("Sam Super: listen")
    expect(alice_row.get_by_test_id("monitor-listen")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_test_id("coached")).to_be_hidden()
    screenshot(page, tmp_path, "supervisor-listening")

    # Whisper: the same monitoring call switches (no new ring); the page follows, and
    # alice is told she is coached (the policy is on).
    alice_row.get_by_test_id("monitor-whisper").click()
    expect(call).to_have_attribute("data-monitor-mode", "whisper")
    expect(call.get_by_test_id("call-monitor")).to_have_text("Sam Super: whisper")
    expect(card.get_by_test_id("coached")).to_be_visible()
    expect(card.get_by_test_id("coached")).to_have_attribute("data-mode", "whisper")
    screenshot(alice_console, tmp_path, "alice-coached")

    # Pause bob: the PBX pauses him (QueuePause) and every screen follows.
    page.once("dialog", lambda dialog: dialog.accept("coaching"))
    bob_row.get_by_test_id("agent-pause").click()
    expect(page.get_by_test_id("floor-message")).to_have_text("Bob Jones paused: coaching.")
    expect(bob_row).to_have_attribute("data-state", "paused")
    expect(bob_row).to_contain_text("coaching")
    expect(bob_console.get_by_test_id("agent-state")).to_have_attribute("data-state", "paused")
    screenshot(page, tmp_path, "supervisor-paused-bob")

    # Stop: the session ends on the page and alice is no longer told of it.
    alice_row.get_by_test_id("monitor-stop").click()
    expect(call).to_have_attribute("data-monitor-mode", "")
    expect(call.get_by_test_id("call-monitor")).to_have_count(0)
    expect(card.get_by_test_id("coached")).to_be_hidden()

    timeline = db_run(
        lambda: list(
            CallEvent.objects.filter(type__startswith="monitor.")
            .order_by("id")
            .values_list("type", "details__mode")
        )
    )
    assert timeline == [
        ("monitor.started", "listen"),
        ("monitor.mode_changed", "whisper"),
        ("monitor.stopped", "whisper"),
    ]
    sam = db_run(lambda: User.objects.get(username="supervisor").pk)
    asked = db_run(
        lambda: list(
            AuditEntry.objects.filter(action__startswith="pbx.", actor_user_id=sam)
            .order_by("id")
            .values_list("action", "details__ok")
        )
    )
    assert asked == [
        ("pbx.monitor", True),
        ("pbx.monitor_mode", True),
        ("pbx.queue_pause", True),
        ("pbx.monitor_stop", True),
    ]
