"""Callbacks in the console, in a real browser, on the stack of tests/e2e/stack.py
(Daphne, the AMI simulator, the bridge): alice schedules a callback from the form, the
bridge offers it to her (the only free member of Support), she takes it, her phone
calls the customer, and the callback is answered; a call the customer asked to be
called back from shows as such in her recent calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contactcenter.models import Agent, Callback, CallbackStatus, CallQueue, QueueMembership
from provisioning.demo import DEMO_ORG_SLUG
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import Stack, db_run, wait_until

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS

WEI = "+12125550147"  # a contact of seed_demo


def _only_alice_free() -> None:
    """Bob and Carol are paused in Support: the callback can only go to alice."""
    QueueMembership.objects.filter(
        queue__organization__slug=DEMO_ORG_SLUG, queue__pbx_queue_name="support"
    ).exclude(agent__extension="1001").update(paused=True)


def _callback() -> Callback | None:
    return Callback.objects.filter(organization__slug=DEMO_ORG_SLUG, number=WEI).first()


def test_alice_schedules_a_callback_is_offered_it_and_calls_the_customer_back(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    db_run(_only_alice_free)
    console = sign_in(browser, stack, "alice", "/console/")
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    support = db_run(
        lambda: CallQueue.objects.get(organization__slug=DEMO_ORG_SLUG, pbx_queue_name="support")
    )

    # The form: a number, the queue, no time (now), a note.
    console.locator("summary", has_text="Schedule a callback").click()
    console.get_by_test_id("callback-number-input").fill("+1 212 555 0147")
    console.get_by_test_id("callback-queue").select_option(str(support.pk))
    console.get_by_test_id("callback-note").fill("about the invoice")
    console.get_by_test_id("callback-schedule").click()
    status = console.get_by_test_id("callback-status")
    expect(status).to_have_attribute("data-result", "ok")
    expect(status).to_contain_text(f"Callback to {WEI} scheduled")

    # The bridge offers it to alice: the console shows it, with the note.
    offer = console.get_by_test_id("callback-offer")
    expect(offer).to_be_visible(timeout=30_000)
    expect(offer.get_by_test_id("callback-number")).to_have_text(WEI)
    expect(offer).to_contain_text("about the invoice")
    expect(offer).to_contain_text("Support")
    alice = db_run(lambda: Agent.objects.get(organization__slug=DEMO_ORG_SLUG, extension="1001"))
    kept = db_run(_callback)
    assert kept is not None and kept.status == CallbackStatus.OFFERED
    assert kept.agent_id == alice.pk
    screenshot(console, tmp_path, "console-callback-offer")

    # She takes it: her phone rings, then calls the customer (the simulator answers).
    offer.get_by_test_id("callback-accept").click()
    expect(status).to_contain_text("your phone rings first")
    expect(offer).to_be_hidden()
    card = console.get_by_test_id("call-card")
    expect(card.get_by_test_id("caller-number")).to_have_text(WEI, timeout=30_000)
    expect(card).to_have_attribute("data-status", "in_progress", timeout=30_000)

    def answered() -> bool:
        callback = db_run(_callback)
        return callback is not None and callback.status == CallbackStatus.ANSWERED

    wait_until(answered, "the callback to be answered")
    done = db_run(_callback)
    assert done is not None and (done.attempts, done.last_outcome) == (1, "answered")
    card.get_by_test_id("call-hangup").click()
    expect(card).to_have_attribute("data-live", "false")
    screenshot(console, tmp_path, "console-callback-placed")
