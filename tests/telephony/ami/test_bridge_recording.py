"""Recording through the simulator and the bridge, over TCP: the organization records
every answered call, so the bridge starts MixMonitor on the customer's leg when the
agent answers; a pause and a resume are on the record, and the hang-up ends it."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from contactcenter.enums import CallEventType, RecordingPolicy, RecordingStatus
from contactcenter.models import AuditEntry, Call, CallEvent, CallQueue, Organization, Recording
from contactcenter.services.recording_files import recordings_collect
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.scenarios import InboundPlan, TransferPlan, inbound_call
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.recorded_calls import live_simulator, place_answered_call, settled
from tests.telephony.recorded_calls import watch as watch_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with live_simulator() as sim:
        yield sim


def _set_policy(organization_id: int, org: str, queue: str = "") -> None:
    Organization.objects.filter(pk=organization_id).update(recording_policy=org)
    CallQueue.objects.for_organization(organization_id).filter(pbx_queue_name="support").update(
        recording_policy=queue
    )


def _recordings(organization_id: int) -> list[Recording]:
    return list(Recording.objects.for_organization(organization_id).select_related("agent"))


async def _answered_call(sim: AmiSimulator, watch: AmiTestClient) -> Any:
    place_answered_call(sim)
    return await watch.wait_for(lambda m: m.event == "AgentConnect")


async def test_policy_all_records_the_customer_leg_pause_resume_and_hangup(
    simulator: AmiSimulator,
) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        await sync_to_async(_set_policy)(org, RecordingPolicy.ALL)
        watch = await watch_client(simulator)
        connect = await _answered_call(simulator, watch)
        start = await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        # The customer's channel is recorded, not the agent's: a transfer keeps it.
        assert start["Uniqueid"] == connect["Uniqueid"]
        named = await watch.wait_for(
            lambda m: m.event == "VarSet" and m["Variable"] == "MIXMONITOR_FILENAME"
        )
        assert named["Value"] == f"/var/spool/asterisk/monitor/cc-{org}-{start['Uniqueid']}.wav"

        channel = start["Channel"]
        muted = await watch.request("MixMonitorMute", Channel=channel, Direction="both", State="1")
        assert muted.response == "Success"
        await watch.wait_for(lambda m: m.event == "MixMonitorMute" and m["State"] == "1")
        await settled(running)
        (paused,) = await sync_to_async(_recordings)(org)
        assert paused.status == RecordingStatus.PAUSED
        assert paused.paused_spans[0]["end"] is None

        await watch.request("MixMonitorMute", Channel=channel, Direction="both", State="0")
        await watch.wait_for(lambda m: m.event == "MixMonitorMute" and m["State"] == "0")
        hung = await watch.request("Hangup", Channel=channel)
        assert hung.response == "Success"
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == channel)
        await settled(running)
        await watch.close()

    (rec,) = await sync_to_async(_recordings)(org)
    call = await sync_to_async(Call.objects.get)(pk=rec.call_id)
    assert rec.leg_id == start["Uniqueid"]
    assert rec.agent is not None and rec.agent.interface == "PJSIP/1001"
    assert rec.pbx_filename == named["Value"] and rec.format == "wav"
    # No MixMonitorStop on a hang-up: the recording ends with the call.
    assert rec.status == RecordingStatus.ENDED
    assert call.flags["recording"] == "ended"
    assert rec.ended_at == call.ended_at
    assert rec.duration_seconds == int((rec.ended_at - rec.started_at).total_seconds())
    (span,) = rec.paused_spans
    assert datetime.fromisoformat(span["start"]) <= datetime.fromisoformat(span["end"])
    kinds = await sync_to_async(
        lambda: list(
            CallEvent.objects.filter(call_id=rec.call_id, type__startswith="recording.")
            .order_by("occurred_at", "id")
            .values_list("type", flat=True)
        )
    )()
    assert kinds == [
        CallEventType.RECORDING_STARTED,  # the file name
        CallEventType.RECORDING_STARTED,  # MixMonitorStart
        CallEventType.RECORDING_PAUSED,
        CallEventType.RECORDING_RESUMED,
    ]
    audited = await sync_to_async(
        lambda: list(
            AuditEntry.objects.filter(object_type="contactcenter.recording")
            .order_by("id")
            .values_list("action", "actor_kind", "organization_id")
        )
    )()
    assert audited[0] == ("recording.create", "pbx", org)
    assert {a for a, _, _ in audited[1:]} == {"recording.update"}


async def test_a_queue_that_records_nothing_overrides_its_organization(
    simulator: AmiSimulator,
) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        await sync_to_async(_set_policy)(org, RecordingPolicy.ALL, RecordingPolicy.NONE)
        watch = await watch_client(simulator)
        connect = await _answered_call(simulator, watch)
        await watch.request("Hangup", Channel=connect["Channel"])
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == connect["Channel"])
        await settled(running)
        await watch.close()
    assert not [m for m in watch.messages if m.event == "MixMonitorStart"]
    assert await sync_to_async(_recordings)(org) == []


async def test_a_dialplan_started_recording_and_its_stop_are_learned_from_events(
    simulator: AmiSimulator,
) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id  # policy "none": the bridge starts nothing itself
        watch = await watch_client(simulator)
        connect = await _answered_call(simulator, watch)
        channel = connect["Channel"]
        started = await watch.request("MixMonitor", Channel=channel, File="/rec/by-dialplan.gsm")
        assert started.response == "Success" and started["MixMonitorID"]
        stopped = await watch.request("StopMixMonitor", Channel=channel)
        assert stopped.response == "Success" and stopped.get("Message") is None
        await watch.wait_for(lambda m: m.event == "MixMonitorStop")
        again = await watch.request("StopMixMonitor", Channel=channel)
        assert (again.response, again["Message"]) == ("Error", "Could not stop monitor")
        await settled(running)
        (rec,) = await sync_to_async(_recordings)(org)
        assert (rec.status, rec.pbx_filename, rec.format) == (
            RecordingStatus.ENDED,
            "/rec/by-dialplan.gsm",
            "gsm",
        )
        stopped_at = rec.ended_at
        await watch.request("Hangup", Channel=channel)
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == channel)
        await settled(running)
        await watch.close()
    (rec,) = await sync_to_async(_recordings)(org)
    assert rec.ended_at == stopped_at  # the call's end does not move a stopped recording


async def test_the_file_the_pbx_wrote_reaches_the_store_and_plays_for_its_length(
    settings: Any, tmp_path: Path
) -> None:
    """The shared volume, end to end: the simulator writes MixMonitor's file under the
    monitor directory this host mounts, and the collect job stores it after the call."""
    spool = tmp_path / "monitor"
    settings.RECORDINGS_SPOOL_DIR = str(spool)
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    async with (
        live_simulator(monitor_dir=str(spool)) as simulator,
        running_bridge(simulator) as running,
    ):
        org = running.organization_id
        await sync_to_async(_set_policy)(org, RecordingPolicy.ALL)
        watch = await watch_client(simulator)
        connect = await _answered_call(simulator, watch)
        await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        channel = connect["Channel"]
        await watch.request("Hangup", Channel=channel)
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == channel)
        await settled(running)
        await watch.close()
    collected = await sync_to_async(recordings_collect)()
    assert (collected.stored, collected.failed) == (1, 0)
    (rec,) = await sync_to_async(_recordings)(org)
    assert rec.status == RecordingStatus.DONE
    with wave.open(str(tmp_path / "store" / rec.storage_key)) as audio:
        assert audio.getnframes() / audio.getframerate() == 2.0
    assert rec.size_bytes == (tmp_path / "store" / rec.storage_key).stat().st_size
    call = await sync_to_async(Call.objects.get)(pk=rec.call_id)
    assert call.flags["recording"] == "done"  # what the call's card shows


async def test_a_transfer_keeps_recording_the_customer(simulator: AmiSimulator) -> None:
    """Alice answers, blind-transfers to bob's phone: the one recording of the customer's
    leg goes on; alice is on it as who answered, bob's part is the call's transfer."""
    transfer = TransferPlan(kind="blind", to="1002", after=0.3, ring=0.2, talk=0.5, hold_first=0.1)
    plan = InboundPlan(
        caller_num="+15557654321", agents=("1001",), answer_after=0, talk=3600, transfer=transfer
    )
    async with running_bridge(simulator) as running:
        org = running.organization_id
        await sync_to_async(_set_policy)(org, RecordingPolicy.ALL)
        watch = await watch_client(simulator)
        simulator.agenda.spawn(inbound_call(simulator.pbx, plan), name="transferred")
        start = await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        await watch.wait_for(lambda m: m.event == "BlindTransfer")
        await watch.wait_for(lambda m: m.event == "Hangup" and m["Uniqueid"] == start["Uniqueid"])
        await settled(running)
        await watch.close()

    def stored() -> tuple[list[Recording], list[tuple[str, str]]]:
        rows = _recordings(org)
        call = Call.objects.get(pk=rows[0].call_id)
        moves = [
            (t.from_agent.interface, t.to_agent.interface)
            for t in call.transfers.select_related("from_agent", "to_agent")
        ]
        return rows, moves

    rows, moves = await sync_to_async(stored)()
    (rec,) = rows  # one recording: the customer's leg, never restarted
    assert rec.leg_id == start["Uniqueid"]
    assert [m for m in watch.messages if m.event == "MixMonitorStart"] == [start]
    assert rec.agent is not None and rec.agent.interface == "PJSIP/1001"
    assert moves == [("PJSIP/1001", "PJSIP/1002")]
    assert rec.status == RecordingStatus.ENDED
