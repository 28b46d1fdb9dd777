"""The demo's recorded calls: ``seed_demo`` stores a real WAV for a few past calls, once,
repairs a missing file, and the recordings play through the API like any other (the
agent's own call, with a signed link)."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from contactcenter.enums import RecordingStatus
from contactcenter.models import Membership, Recording
from contactcenter.services.recording_files import recordings_storage
from provisioning.demo_history import PAST_CALLS, RECORDED_CALLS
from provisioning.demo_recordings import SECONDS, demo_audio
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "store"


def _files(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file())


def test_the_demo_audio_is_a_real_short_wav() -> None:
    audio = demo_audio()
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() / wav.getframerate() == pytest.approx(SECONDS, abs=0.01)
    assert 10_000 < len(audio) < 100_000


def test_seed_demo_stores_the_recorded_calls_once_and_repairs_a_lost_file(store: Path) -> None:
    call_command("seed_demo")
    recs = list(Recording.objects.select_related("call", "agent").order_by("call__external_id"))
    assert sorted(r.call.external_id for r in recs) == sorted(
        f"demo-history-{n}" for n in RECORDED_CALLS
    )
    assert {r.agent.extension for r in recs if r.agent} == {
        PAST_CALLS[n].agent for n in RECORDED_CALLS
    }
    for rec in recs:
        assert rec.status == RecordingStatus.DONE and rec.format == "wav"
        assert rec.started_at == rec.call.answered_at
        assert rec.size_bytes == len(demo_audio())
        assert rec.call.flags["recording"] == "done"  # the lists offer the player
        with recordings_storage().open(rec.storage_key, "rb") as handle:
            assert handle.read() == demo_audio()
    files = _files(store)
    assert len(files) == len(RECORDED_CALLS)

    call_command("seed_demo")
    assert Recording.objects.count() == len(recs)
    assert _files(store) == files  # nothing stored twice

    lost = recs[0]
    recordings_storage().delete(lost.storage_key)
    call_command("seed_demo")
    lost.refresh_from_db()
    assert recordings_storage().exists(lost.storage_key)
    assert len(_files(store)) == len(RECORDED_CALLS)


def test_the_agent_plays_her_demo_recording_over_the_api(store: Path) -> None:
    call_command("seed_demo")
    alice = Membership.objects.select_related("user").get(user__username="alice")
    rec = Recording.objects.filter(agent__extension="1001").order_by("pk").first()
    assert rec is not None
    client = client_for(alice)
    listed = client.get(f"/api/v1/calls/{rec.call_id}/recordings/")
    assert listed.status_code == 200, listed.content
    (row,) = listed.json()
    media = client.get(row["media_url"])
    assert media.status_code == 200 and media["Content-Type"] == "audio/wav"
    assert b"".join(media.streaming_content) == demo_audio()  # type: ignore[attr-defined]
    recorded = client.get("/api/v1/calls/?has_recording=true").json()["results"]
    assert {c["id"] for c in recorded} == set(
        Recording.objects.filter(agent__extension="1001").values_list("call_id", flat=True)
    )
