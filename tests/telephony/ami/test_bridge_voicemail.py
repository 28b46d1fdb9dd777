"""Voicemail through the simulator and the bridge, over TCP: a queue's caller nobody
answers reaches VoiceMail(); the bridge stores the message for the queue (its file
from VM_MESSAGEFILE, MessageWaiting and VMSTATUS meeting on one row), the workers copy
the file from the voicemail spool; a caller who hangs up at the beep leaves nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from contactcenter.models import AuditEntry, Call, Voicemail, VoicemailMedia, VoicemailStatus
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.voicemail_files import voicemails_collect
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.voicemail import VoicemailPlan, voicemail_call
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.recorded_calls import live_simulator, settled
from tests.telephony.recorded_calls import watch as watch_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with live_simulator() as sim:
        yield sim


@pytest.fixture
def spool(settings: Any, tmp_path: Path) -> Path:
    settings.VOICEMAIL_SPOOL_DIR = str(tmp_path / "voicemail")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "voicemail"


def _voicemails(organization_id: int) -> list[Voicemail]:
    return list(Voicemail.objects.for_organization(organization_id).select_related("queue", "call"))


async def test_a_caller_nobody_answers_leaves_a_voicemail_for_the_queue(
    simulator: AmiSimulator, spool: Path
) -> None:
    plan = VoicemailPlan("+15552223333", "VM CALLER", wait=0.3, message=1.0, spool_dir=str(spool))
    async with running_bridge(simulator) as running:
        org = running.organization_id
        watch = await watch_client(simulator)
        assert simulator.agenda is not None
        simulator.agenda.spawn(voicemail_call(simulator.pbx, plan), name="voicemail")
        named = await watch.wait_for(
            lambda m: m.event == "VarSet" and m["Variable"] == "VM_MESSAGEFILE"
        )
        waiting = await watch.wait_for(lambda m: m.event == "MessageWaiting")
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Uniqueid"] == named["Uniqueid"])
        await settled(running)
        await watch.close()

    (vm,) = await sync_to_async(_voicemails)(org)
    assert vm.leg_id == named["Uniqueid"] == waiting["Uniqueid"]
    assert vm.mailbox == "support@queues"
    assert vm.pbx_filename == named["Value"]
    assert vm.pbx_filename.startswith("/var/spool/asterisk/voicemail/queues/support/INBOX/msg")
    assert vm.queue is not None and vm.queue.pbx_queue_name == "support"
    assert vm.call is not None and vm.call.caller_number == "+15552223333"
    assert vm.caller_number == "+15552223333"
    assert (vm.status, vm.media) == (VoicemailStatus.NEW, VoicemailMedia.WAITING)
    # MessageWaiting and VMSTATUS=SUCCESS both said so: one row, created once.
    actions = await sync_to_async(
        lambda: list(
            AuditEntry.objects.filter(object_type="contactcenter.voicemail").values_list(
                "action", "actor_kind"
            )
        )
    )()
    assert actions == [("voicemail.create", "pbx")]

    result = await sync_to_async(voicemails_collect)()
    assert (result.stored, result.failed) == (1, 0)
    stored = await sync_to_async(Voicemail.objects.get)(pk=vm.pk)
    assert stored.media == VoicemailMedia.STORED
    assert (stored.format, stored.duration_seconds) == ("wav", 1)
    expected = (spool / "queues/support/INBOX" / f"{Path(vm.pbx_filename).name}.wav").read_bytes()
    assert stored.size_bytes == len(expected)
    with recordings_storage().open(stored.storage_key, "rb") as handle:
        assert handle.read() == expected


async def test_a_caller_who_hangs_up_at_the_beep_leaves_no_voicemail(
    simulator: AmiSimulator,
) -> None:
    plan = VoicemailPlan("+15552224444", wait=0.3, message=0.5, leaves_message=False)
    async with running_bridge(simulator) as running:
        org = running.organization_id
        watch = await watch_client(simulator)
        assert simulator.agenda is not None
        simulator.agenda.spawn(voicemail_call(simulator.pbx, plan), name="voicemail")
        named = await watch.wait_for(
            lambda m: m.event == "VarSet" and m["Variable"] == "VM_MESSAGEFILE"
        )
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Uniqueid"] == named["Uniqueid"])
        await settled(running)
        await watch.close()
    assert await sync_to_async(_voicemails)(org) == []
    ended = await sync_to_async(
        lambda: Call.objects.for_organization(org).filter(caller_number="+15552224444").get()
    )()
    assert ended.ended_at is not None  # the call itself is recorded as usual
