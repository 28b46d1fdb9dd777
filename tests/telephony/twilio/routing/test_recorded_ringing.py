"""A queue that records all calls, routed by us on Twilio: the <Dial> that rings the
agent records, Twilio's recording callback (to the URL that <Dial> named) fills the
call's Recording, and its media ends in our store, all over the real socket of the fake
Twilio API and through the signed webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.test import Client

from contactcenter.enums import QueueStrategy, RecordingPolicy, RecordingStatus
from contactcenter.models import Recording
from tests.conftest import Floor
from tests.contactcenter.recorded import tiny_wav
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.recordings import RECORDING, recording_callback
from tests.telephony.twilio.routing.conftest import routed_floor
from tests.telephony.twilio.signed import TwilioRequest, deliver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


@pytest.fixture
def store(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path


def _dial(api: FakeTwilioAPI, call: str) -> ElementTree.Element:
    [update] = [u for u in api.updates if u.call_sid == call and "<Dial" in u.fields["Twiml"]]
    dial = ElementTree.fromstring(update.fields["Twiml"]).find("Dial")
    assert dial is not None
    return dial


@pytest.mark.parametrize("policy", [RecordingPolicy.ALL, RecordingPolicy.NONE])
def test_the_queues_policy_records_the_routed_call_into_our_store(
    floor_a: Floor, twilio_api: FakeTwilioAPI, store: Path, policy: str
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.recording_policy = policy
    f.queue.save()
    f.available(*f.agents)
    caller = f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    dial = _dial(twilio_api, caller)
    if policy == RecordingPolicy.NONE:
        assert dial.get("record") is None
        return
    assert dial.get("record") == "record-from-answer-dual"
    url = urlsplit(dial.get("recordingStatusCallback") or "")
    path = f"{url.path}?{url.query}"
    twilio_api.media[RECORDING] = tiny_wav(store / "twilio.wav")
    completed = recording_callback("completed", call_sid=caller, duration="42")
    assert deliver(Client(), TwilioRequest(path, completed.fields)).status_code == 204
    rec = Recording.objects.get()
    assert rec.call.external_id == caller
    assert (rec.agent_id, rec.duration_seconds) == (f.agents[0].pk, 42)
    assert rec.status == RecordingStatus.DONE  # fetched after the callback's commit
    assert rec.size_bytes == len(twilio_api.media[RECORDING])
