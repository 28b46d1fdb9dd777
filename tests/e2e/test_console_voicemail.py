"""A voicemail in the console, in a real browser, on the stack of tests/e2e/stack.py
(Daphne, the AMI simulator, the bridge): a caller nobody answers leaves a message at the
support queue's voicemail exit; alice, a member of the queue, sees it arrive without
reloading, takes it, and has it called back: it leaves her list and a callback waits in
the queue's line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contactcenter.models import Callback, Voicemail
from provisioning.demo import DEMO_ORG_SLUG
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import AmiControl, Stack, db_run

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS

CALLER = "+15557650123"


def _voicemail() -> Voicemail | None:
    return Voicemail.objects.filter(organization__slug=DEMO_ORG_SLUG, caller_number=CALLER).first()


def test_alice_sees_a_voicemail_arrive_takes_it_and_has_it_called_back(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    console: Any = sign_in(browser, stack, "alice", "/console/")
    voicemails = console.get_by_test_id("voicemail-list")
    expect(voicemails).to_contain_text("None waiting.")

    with AmiControl(stack.ami_port) as ami:
        reply = ami.request(
            "SimulatorVoicemailCall", CallerID=f'"VM CALLER" <{CALLER}>', Wait="1", Message="1"
        )
    assert reply.response == "Success", reply.fields

    item = console.get_by_test_id("voicemail")
    expect(item).to_have_count(1, timeout=30_000)
    expect(item).to_contain_text(CALLER)
    expect(item).to_have_attribute("data-status", "new")
    screenshot(console, tmp_path, "console-voicemail-new")

    item.get_by_test_id("voicemail-claim").click()
    expect(item).to_have_attribute("data-status", "claimed")
    status = console.get_by_test_id("voicemail-status")
    expect(status).to_have_text("It is yours.")
    claimer = db_run(
        lambda: (
            Voicemail.objects.filter(organization__slug=DEMO_ORG_SLUG, caller_number=CALLER)
            .values_list("claimed_by__extension", flat=True)
            .get()
        )
    )
    assert claimer == "1001"

    item.get_by_test_id("voicemail-callback").click()
    expect(status).to_have_text("A callback is in the queue's line.")
    expect(console.get_by_test_id("voicemail")).to_have_count(0)
    done = db_run(_voicemail)
    assert done is not None and done.status == "done" and done.callback_id is not None
    callback_id: int = done.callback_id
    callback = db_run(lambda: Callback.objects.get(pk=callback_id))
    assert callback.number == CALLER
