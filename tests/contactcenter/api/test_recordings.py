"""A call's recordings over REST, and their media with HTTP Range, authorized as the
call: the agent of the call, supervisors of its organization, nobody else."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.core import signing
from rest_framework.test import APIClient

from contactcenter.models import AuditEntry, Recording
from contactcenter.services.recording_files import recordings_collect
from tests.conftest import Floor, client_for
from tests.contactcenter.recorded import ended_recording, tiny_wav
from tests.factories import make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(floor_a: Floor, settings: Any, tmp_path: Path) -> tuple[Recording, bytes]:
    settings.RECORDINGS_SPOOL_DIR = str(tmp_path / "monitor")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    rec = ended_recording(floor_a.org, floor_a.agent, name="played.wav")
    audio = tiny_wav(tmp_path / "monitor" / "played.wav")
    assert recordings_collect().stored == 1
    rec.refresh_from_db()
    return rec, audio


def _listed(client: APIClient, rec: Recording) -> Any:
    return client.get(f"/api/v1/calls/{rec.call_id}/recordings/")


def _media(client: APIClient, url: str, range_: str = "") -> Any:
    headers = {"HTTP_RANGE": range_} if range_ else {}
    return client.get(url, **headers)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_the_agent_lists_and_plays_with_ranges(
    floor_a: Floor, stored: tuple[Recording, bytes]
) -> None:
    rec, audio = stored
    listed = _listed(client_for(floor_a.agent_member), rec)
    assert listed.status_code == 200, listed.content
    (row,) = listed.json()
    assert (row["id"], row["status"], row["size_bytes"], row["format"]) == (
        rec.pk,
        "done",
        len(audio),
        "wav",
    )
    url = row["media_url"]
    browser = APIClient()  # an <audio> element: the link is all it has

    first = _media(browser, url, "bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{len(audio)}"
    assert first["Content-Type"] == "audio/wav"
    assert _body(first) == audio[:100]

    middle = _media(browser, url, "bytes=1000-1999")
    assert middle.status_code == 206
    assert middle["Content-Length"] == "1000"
    assert _body(middle) == audio[1000:2000]

    tail = _media(browser, url, "bytes=-44")
    assert _body(tail) == audio[-44:]

    past = _media(browser, url, f"bytes={len(audio)}-")
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{len(audio)}"

    whole = _media(browser, url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert _body(whole) == audio

    # A playback is a request from the first byte: two here (0-99 and the whole file).
    plays = AuditEntry.objects.filter(action="recording.play", object_id=str(rec.pk))
    assert (
        list(plays.values_list("actor_user_id", "organization_id"))
        == [(floor_a.agent_member.user_id, floor_a.org.pk)] * 2
    )


def test_supervisors_of_the_organization_play_any_call(
    floor_a: Floor, stored: tuple[Recording, bytes]
) -> None:
    rec, audio = stored
    for member in (floor_a.supervisor, floor_a.admin):
        (row,) = _listed(client_for(member), rec).json()
        assert _body(_media(APIClient(), row["media_url"])) == audio


def test_another_agent_and_another_organization_get_nothing(
    floor_a: Floor, floor_b: Floor, stored: tuple[Recording, bytes]
) -> None:
    rec, _ = stored
    other_agent = client_for(floor_a.other_agent.user.membership)
    assert _listed(other_agent, rec).status_code == 404
    for member in (floor_b.supervisor, floor_b.admin, floor_b.agent_member):
        assert _listed(client_for(member), rec).status_code == 404
    assert _listed(APIClient(), rec).status_code == 401


def test_a_forged_altered_or_expired_link_is_refused(
    floor_a: Floor, floor_b: Floor, stored: tuple[Recording, bytes], monkeypatch: Any
) -> None:
    rec, _ = stored
    (row,) = _listed(client_for(floor_a.agent_member), rec).json()
    url: str = row["media_url"]
    browser = APIClient()
    assert _media(browser, url.replace(url[-6:-1], "AAAAA")).status_code == 403
    forged = signing.dumps({"r": rec.pk, "o": rec.organization_id, "u": None}, salt="other")
    assert _media(browser, f"/api/v1/recordings/media/{forged}/").status_code == 403
    # Another organization's person cannot point a link of their own at this recording.
    token = signing.dumps(
        {"r": rec.pk, "o": floor_b.org.pk, "u": floor_b.supervisor.user_id},
        salt="contactcenter.recordings.media",
    )
    assert _media(browser, f"/api/v1/recordings/media/{token}/").status_code == 404
    later = time.time() + 301
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert _media(browser, url).status_code == 403
    assert not AuditEntry.objects.filter(action="recording.play").exists()


def test_a_link_stops_working_when_its_person_leaves(
    floor_a: Floor, stored: tuple[Recording, bytes]
) -> None:
    rec, _ = stored
    (row,) = _listed(client_for(floor_a.agent_member), rec).json()
    user = floor_a.agent_member.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _media(APIClient(), row["media_url"]).status_code == 403


def test_a_recording_without_a_stored_file_has_no_link(floor_a: Floor) -> None:
    rec = ended_recording(floor_a.org, floor_a.agent)
    (row,) = _listed(client_for(floor_a.supervisor), rec).json()
    assert (row["status"], row["media_url"]) == ("ended", None)


def test_admins_set_the_recording_policy_and_retention(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    changed = admin.patch(
        "/api/v1/organization/",
        {"recording_policy": "all", "recording_retention_days": 90},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["recording_policy"], body["recording_retention_days"]) == ("all", 90)
    floor_a.org.refresh_from_db()
    assert (floor_a.org.recording_policy, floor_a.org.recording_retention_days) == ("all", 90)
    entry = AuditEntry.objects.filter(action="update", object_type="contactcenter.organization")
    assert entry.get().changes["recording_policy"] == ["none", "all"]
    bad = admin.patch("/api/v1/organization/", {"recording_retention_days": 0}, format="json")
    assert bad.status_code == 400
    bad = admin.patch("/api/v1/organization/", {"recording_policy": "some"}, format="json")
    assert bad.status_code == 400
    kept = admin.patch("/api/v1/organization/", {"recording_retention_days": None}, format="json")
    assert kept.json()["recording_retention_days"] is None
    refused = client_for(floor_a.supervisor).patch(
        "/api/v1/organization/", {"recording_policy": "none"}, format="json"
    )
    assert refused.status_code == 403


def test_a_queue_has_its_own_recording_policy(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org)
    admin = client_for(floor_a.admin)
    url = f"/api/v1/queues/{queue.pk}/"
    assert admin.get(url).json()["recording_policy"] == ""  # the organization's
    changed = admin.patch(url, {"recording_policy": "none"}, format="json")
    assert changed.status_code == 200, changed.content
    queue.refresh_from_db()
    assert queue.recording_policy == "none"
    assert admin.patch(url, {"recording_policy": "x"}, format="json").status_code == 400
