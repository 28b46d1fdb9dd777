"""An agent pauses and resumes the recording of her call, then plays it back after the
call, in a real browser, on the stack of tests/e2e/stack.py (Daphne, the AMI simulator,
the bridge). The organization records every call; the file the PBX wrote reaches the
store through the shared-volume job (run here, as a worker would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from contactcenter.enums import RecordingStatus
from contactcenter.models import AuditEntry, Organization, Recording
from contactcenter.services.recording_files import (
    recordings_collect,
    recordings_storage,
    spool_path,
)
from provisioning.demo import DEMO_ORG_SLUG
from tests.contactcenter.recorded import tiny_wav
from tests.e2e.pages import STACK_MARKS, browser, expect, screenshot, sign_in, stack
from tests.e2e.stack import Stack, db_run, wait_until

__all__ = ["browser", "stack"]  # fixtures
pytestmark = STACK_MARKS


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

    toggle.click()
    expect(state).to_have_text("Recording paused")
    expect(toggle).to_have_text("Resume recording")
    screenshot(console, tmp_path, "recording-paused")
    toggle.click()
    expect(state).to_have_text("Recording")

    card.get_by_test_id("call-hangup").click()
    expect(card.get_by_test_id("recording-row")).to_be_hidden()
    expect(card.get_by_test_id("recording-play")).to_be_visible()

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

    card.get_by_test_id("recording-play").click()
    audio = card.get_by_test_id("recording-audio")
    expect(audio).to_have_count(1)
    console.wait_for_function(
        "() => document.querySelector('[data-testid=recording-audio]').duration > 2.9"
    )
    console.evaluate(
        "() => { const a = document.querySelector('[data-testid=recording-audio]');"
        " a.muted = true; return a.play(); }"
    )
    console.wait_for_function(
        "() => document.querySelector('[data-testid=recording-audio]').currentTime > 0.2"
    )
    screenshot(console, tmp_path, "recording-playback")
    played = db_run(
        lambda: list(
            AuditEntry.objects.filter(action="recording.play", object_id=str(rec.pk)).values_list(
                "actor_label", flat=True
            )
        )
    )
    assert played, "the playback is audited"
    # The stored file is in the installation's store (var/): not left behind.
    db_run(lambda: recordings_storage().delete(Recording.objects.get(pk=rec.pk).storage_key))
