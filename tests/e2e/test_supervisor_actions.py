"""The supervisor acts from the wallboard in a real browser (issue 31): pauses bob with
a reason and resumes him, and sees it on the board and in bob's console; the demo stack
(Daphne, the bridge, the AMI simulator as their own processes) carries each command to
the PBX and the PBX's report back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contactcenter.models import Agent, AuditEntry
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import Stack, db_run

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS


def test_the_supervisor_pauses_and_resumes_bob(stack: Stack, browser: Any, tmp_path: Path) -> None:
    bob = db_run(lambda: Agent.objects.get(extension="1002"))
    console = sign_in(browser, stack, "bob", "/console/")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    board = sign_in(browser, stack, "supervisor", "/wallboard/")
    row = board.locator(
        f"[data-testid=queue-tile][data-queue-name=Support] [data-agent-id='{bob.pk}']"
    )
    expect(row).to_have_attribute("data-state", "available")

    board.once("dialog", lambda dialog: dialog.accept("coaching"))
    row.get_by_test_id("agent-pause").click()
    expect(board.get_by_test_id("board-message")).to_have_text("Bob Jones paused: coaching.")
    # The PBX paused him (QueuePause), reported it, and every screen follows.
    expect(row).to_have_attribute("data-state", "paused")
    expect(row).to_contain_text("coaching")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "paused")
    screenshot(board, tmp_path, "supervisor-paused-bob")

    row.get_by_test_id("agent-resume").click()
    expect(board.get_by_test_id("board-message")).to_have_text("Bob Jones resumed.")
    expect(row).to_have_attribute("data-state", "available")
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")

    supervisor = db_run(lambda: AuditEntry.objects.filter(action="pbx.queue_pause"))
    asked = db_run(lambda: list(supervisor.values_list("details", flat=True).order_by("id")))
    assert [(d["paused"], d["reason"], d["ok"]) for d in asked] == [
        (True, "coaching", True),
        (False, "", True),
    ]
