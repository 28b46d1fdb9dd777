"""Pulling the PBX's recording files over HTTP (RECORDINGS_PULL_URL) instead of a shared
volume: against a real HTTP server on a local port, started by the test, serving the
PBX's monitor directory with basic auth or a bearer token."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from contactcenter.enums import RecordingStatus
from contactcenter.models import AuditEntry
from contactcenter.services.recording_files import (
    NEVER_ARRIVED,
    OUTSIDE,
    recordings_collect,
    recordings_storage,
)
from tests.conftest import Floor
from tests.contactcenter.recorded import ended_recording, tiny_wav

pytestmark = pytest.mark.django_db

USER, PASSWORD, TOKEN = "cc-pull", "pull-secret", "bearer-secret"


@dataclass
class PbxFiles:
    """What the PBX's web server holds and what it was asked."""

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # path under /monitor/ -> bytes
    cut: set[str] = field(default_factory=set)  # sent half, under the full length
    redirect: set[str] = field(default_factory=set)  # answered 302 elsewhere
    asked: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)


@pytest.fixture
def pbx() -> Iterator[PbxFiles]:
    state = PbxFiles()
    good = {
        "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        f"Bearer {TOKEN}",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization", "")
            state.asked.append((self.path, authorization))
            name = unquote(self.path.removeprefix("/monitor/"))
            if authorization not in good:
                self._answer(401, b"", 0)
            elif name in state.redirect:
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif name not in state.files:
                self._answer(404, b"", 0)
            elif name in state.cut:
                body = state.files[name]
                self._answer(200, body[: len(body) // 2], len(body))
                self.close_connection = True
            else:
                self._answer(200, state.files[name], len(state.files[name]))

        def _answer(self, status: int, body: bytes, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "audio/x-wav")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def pull(settings: Any, tmp_path: Path, pbx: PbxFiles) -> PbxFiles:
    settings.RECORDINGS_PULL_URL = pbx.base_url + "/monitor/{path}"
    settings.RECORDINGS_PULL_USERNAME = USER
    settings.RECORDINGS_PULL_PASSWORD = PASSWORD
    settings.RECORDINGS_PULL_TOKEN = ""
    settings.RECORDINGS_FILE_TIMEOUT_SECONDS = 600
    # The shared volume is empty: whatever is stored came over HTTP.
    settings.RECORDINGS_SPOOL_DIR = str(tmp_path / "no-volume")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return pbx


def test_a_file_is_pulled_with_basic_auth_checked_and_stored(
    floor_a: Floor, pull: PbxFiles, tmp_path: Path
) -> None:
    audio = tiny_wav(tmp_path / "a.wav")
    pull.files["2025/03/cc-1 (a).wav"] = audio
    rec = ended_recording(floor_a.org, floor_a.agent, name="2025/03/cc-1 (a).wav")
    assert recordings_collect().stored == 1
    rec.refresh_from_db()
    assert (rec.status, rec.size_bytes) == (RecordingStatus.DONE, len(audio))
    with recordings_storage().open(rec.storage_key, "rb") as stored:
        assert stored.read() == audio
    [(path, authorization)] = pull.asked
    assert path == "/monitor/2025/03/cc-1%20%28a%29.wav"  # each segment quoted
    assert authorization.startswith("Basic ")
    assert AuditEntry.objects.filter(action="recording.store", object_id=str(rec.pk)).exists()


def test_a_bearer_token_is_sent_instead_when_set(
    floor_a: Floor, pull: PbxFiles, settings: Any, tmp_path: Path
) -> None:
    settings.RECORDINGS_PULL_TOKEN = TOKEN
    pull.files["cc-2.wav"] = tiny_wav(tmp_path / "b.wav")
    ended_recording(floor_a.org, floor_a.agent, name="cc-2.wav")
    assert recordings_collect().stored == 1
    assert pull.asked[0][1] == f"Bearer {TOKEN}"


def test_wrong_credentials_or_a_missing_file_wait_then_fail_after_the_timeout(
    floor_a: Floor, pull: PbxFiles, settings: Any, tmp_path: Path
) -> None:
    rec = ended_recording(floor_a.org, floor_a.agent, name="cc-3.wav")
    assert recordings_collect().waiting == 1  # 404: not there yet
    settings.RECORDINGS_PULL_PASSWORD = "wrong"
    pull.files["cc-3.wav"] = tiny_wav(tmp_path / "c.wav")
    assert recordings_collect().waiting == 1  # 401: logged, tried again later
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.ENDED
    result = recordings_collect(now=timezone.now() + timedelta(seconds=601))
    assert result.failed == 1
    rec.refresh_from_db()
    assert (rec.status, rec.failure) == (RecordingStatus.FAILED, NEVER_ARRIVED)


def test_a_cut_transfer_or_a_redirect_stores_nothing(
    floor_a: Floor, pull: PbxFiles, tmp_path: Path
) -> None:
    audio = tiny_wav(tmp_path / "d.wav")
    pull.files["cc-4.wav"] = audio
    pull.cut.add("cc-4.wav")
    pull.files["cc-5.wav"] = audio
    pull.redirect.add("cc-5.wav")
    cut = ended_recording(floor_a.org, floor_a.agent, name="cc-4.wav")
    moved = ended_recording(floor_a.org, floor_a.agent, name="cc-5.wav")
    assert recordings_collect().waiting == 2
    for rec in (cut, moved):
        rec.refresh_from_db()
        assert (rec.status, rec.storage_key) == (RecordingStatus.ENDED, "")
    store = tmp_path / "store"
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    # The redirect was not followed: our credentials went to the PBX's server only.
    assert [path for path, _ in pull.asked].count("/monitor/cc-5.wav") == 1
    pull.cut.clear()
    assert recordings_collect().stored == 1  # the cut one, whole this time


def test_a_name_outside_the_monitor_directory_is_never_asked_for(
    floor_a: Floor, pull: PbxFiles, settings: Any
) -> None:
    rec = ended_recording(floor_a.org, floor_a.agent)
    rec.pbx_filename = f"{settings.RECORDINGS_PBX_DIR}/../../../etc/passwd"
    rec.save()
    assert recordings_collect().failed == 1
    rec.refresh_from_db()
    assert (rec.status, rec.failure) == (RecordingStatus.FAILED, OUTSIDE)
    assert pull.asked == []


def test_a_template_without_the_path_is_a_configuration_error(
    floor_a: Floor, pull: PbxFiles, settings: Any
) -> None:
    settings.RECORDINGS_PULL_URL = pull.base_url + "/monitor/"
    ended_recording(floor_a.org, floor_a.agent, name="cc-6.wav")
    with pytest.raises(ImproperlyConfigured, match="path"):
        recordings_collect()
    assert pull.asked == []
