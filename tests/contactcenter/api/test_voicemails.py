"""Voicemails over REST: agents see their queues', supervisors their organization's,
nobody another organization's; claims race to one winner; the audio plays behind a
signed link with HTTP Range, every playback audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from contactcenter.models import AuditEntry, Voicemail, VoicemailStatus
from contactcenter.services.voicemail_files import voicemails_collect
from tests.conftest import Floor, client_for
from tests.contactcenter.recorded import tiny_wav
from tests.contactcenter.voicemailed import leave_voicemail, queue_with

pytestmark = pytest.mark.django_db


def _client_of_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stored(floor_a: Floor, settings: Any, tmp_path: Path) -> tuple[Voicemail, bytes]:
    """A voicemail of the queue of floor_a's agent (not of its other agent), with audio."""
    settings.VOICEMAIL_SPOOL_DIR = str(tmp_path / "voicemail")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    name = f"{django_settings.VOICEMAIL_PBX_DIR}/queues/support/INBOX/msg0007"
    audio = tiny_wav(tmp_path / "voicemail/queues/support/INBOX/msg0007.wav")
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent), filename=name)
    assert voicemails_collect().stored == 1
    vm.refresh_from_db()
    return vm, audio


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_who_sees_which_voicemails(floor_a: Floor, floor_b: Floor, stored: Any) -> None:
    vm, _ = stored
    url = f"/api/v1/voicemails/{vm.pk}/"
    mine = client_for(floor_a.agent_member).get("/api/v1/voicemails/")
    assert mine.status_code == 200, mine.content
    assert [row["id"] for row in mine.json()["results"]] == [vm.pk]
    assert mine.json()["results"][0]["queue_name"] == "Support"
    # The other agent is in no queue of it: nothing listed, and a 404 by id.
    other = _client_of_user(floor_a.other_agent.user)
    assert other.get("/api/v1/voicemails/").json()["results"] == []
    assert other.get(url).status_code == 404
    assert other.post(f"{url}claim/").status_code == 404
    assert client_for(floor_a.supervisor).get(url).status_code == 200
    assert client_for(floor_a.admin).get(url).status_code == 200
    # Another organization: nobody, whatever their role.
    for member in (floor_b.admin, floor_b.supervisor, floor_b.agent_member):
        assert client_for(member).get(url).status_code == 404
        assert client_for(member).post(f"{url}claim/").status_code == 404
    assert APIClient().get(url).status_code == 401


def test_claim_then_the_second_agent_is_refused(floor_a: Floor) -> None:
    queue = queue_with(floor_a.org, floor_a.agent, floor_a.other_agent)
    vm = leave_voicemail(queue)
    url = f"/api/v1/voicemails/{vm.pk}/claim/"
    won = client_for(floor_a.agent_member).post(url)
    assert won.status_code == 200, won.content
    assert (won.json()["status"], won.json()["claimed_by"]) == ("claimed", floor_a.agent.pk)
    lost = _client_of_user(floor_a.other_agent.user).post(url)
    assert lost.status_code == 409
    assert lost.json()["errors"][0]["code"] == "already_claimed"
    # A supervisor without an agent profile cannot claim, but can deal with it.
    assert client_for(floor_a.supervisor).post(url).status_code == 403
    case = client_for(floor_a.supervisor).post(f"/api/v1/voicemails/{vm.pk}/case/", {})
    assert case.status_code == 200, case.content
    assert case.json()["status"] == VoicemailStatus.DONE and case.json()["case"] is not None


def test_an_agent_turns_their_claim_into_a_callback(floor_a: Floor) -> None:
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent))
    agent = client_for(floor_a.agent_member)
    early = agent.post(f"/api/v1/voicemails/{vm.pk}/callback/")
    assert early.status_code == 409  # claim it first
    agent.post(f"/api/v1/voicemails/{vm.pk}/claim/")
    done = agent.post(f"/api/v1/voicemails/{vm.pk}/callback/")
    assert done.status_code == 200, done.content
    assert done.json()["callback"] is not None
    assert agent.get("/api/v1/voicemails/?status=new").json()["results"] == []


def test_the_audio_plays_with_ranges_behind_a_signed_link(
    floor_a: Floor, stored: tuple[Voicemail, bytes]
) -> None:
    vm, audio = stored
    row = client_for(floor_a.agent_member).get(f"/api/v1/voicemails/{vm.pk}/").json()
    assert (row["media"], row["format"], row["size_bytes"]) == ("stored", "wav", len(audio))
    url = row["media_url"]
    browser = APIClient()  # an <audio> element: the link is all it has
    first = browser.get(url, HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{len(audio)}"
    assert first["Content-Type"] == "audio/wav"
    assert _body(first) == audio[:100]
    middle = browser.get(url, HTTP_RANGE="bytes=1000-1999")
    assert (middle.status_code, _body(middle)) == (206, audio[1000:2000])
    past = browser.get(url, HTTP_RANGE=f"bytes={len(audio)}-")
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{len(audio)}"
    whole = browser.get(url)
    assert (whole.status_code, _body(whole)) == (200, audio)
    # Two requests from the first byte: two playbacks, by the agent the link names.
    plays = AuditEntry.objects.filter(action="voicemail.play", object_id=str(vm.pk))
    assert plays.count() == 2
    assert {p.actor_user_id for p in plays} == {floor_a.agent_member.user_id}


def test_forged_and_foreign_links_are_refused(
    floor_a: Floor, floor_b: Floor, stored: tuple[Voicemail, bytes]
) -> None:
    vm, _ = stored
    url = client_for(floor_a.agent_member).get(f"/api/v1/voicemails/{vm.pk}/").json()["media_url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert APIClient().get(tampered).status_code == 403
    # A recording's link for the same id is no voicemail's (another salt).
    recording_url = f"/api/v1/recordings/media/{token}/"
    assert APIClient().get(recording_url).status_code == 403
    # The person the link names leaves the organization: the link dies with it.
    floor_a.agent_member.user.is_active = False
    floor_a.agent_member.user.save(update_fields=["is_active"])
    assert APIClient().get(url).status_code == 403
    assert not AuditEntry.objects.filter(action="voicemail.play").exists()
