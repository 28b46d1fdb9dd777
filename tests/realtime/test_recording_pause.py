"""An agent pauses and resumes the recording of their call from the console: the
command goes through the service, the telephony port and the real bridge to the AMI
simulator over TCP (MixMonitorMute), and the PBX's report pauses the recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.models import AuditEntry, Call, Membership, Organization, Recording
from telephony.ami.simulator import AmiSimulator
from tests.realtime.support import open_agent, session_cookie, sync
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.recorded_calls import live_simulator, place_answered_call, settled
from tests.telephony.recorded_calls import watch as watch_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with live_simulator() as sim:
        yield sim


@sync
def _member(organization_id: int, username: str, policy: str) -> Membership:
    Organization.objects.filter(pk=organization_id).update(recording_policy=policy)
    return Membership.objects.select_related("user").get(
        organization_id=organization_id, user__username=username
    )


@sync
def _status(organization_id: int) -> tuple[str, list[dict[str, Any]]]:
    rec = Recording.objects.get(organization_id=organization_id)
    return rec.status, rec.paused_spans


def _recording(message: dict[str, Any]) -> str | None:
    call = message.get("data", {}).get("call")
    return call.get("recording") if isinstance(call, dict) else None


async def _answered(sim: AmiSimulator, console: Any, phone: str) -> int:
    place_answered_call(sim, phone)
    answered = await console.until(lambda f: f["type"] == "call.answered")
    return int(answered["data"]["call"]["id"])


async def test_the_agent_pauses_and_resumes_the_recording(simulator: AmiSimulator) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        alice = await _member(org, "alice", RecordingPolicy.ALL)
        watch = await watch_client(simulator)
        console, _ = await open_agent(await session_cookie(alice.user))
        call_id = await _answered(simulator, console, "1001")
        await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        await settled(running)

        ack = await console.command("call.recording_pause", {"call_id": call_id, "paused": True})
        assert ack["type"] == "ack", ack
        assert ack["data"]["result"]["pbx"]["ok"] is True
        mute = await watch.wait_for(lambda m: m.event == "MixMonitorMute")
        assert (mute["State"], mute["Direction"]) == ("1", "both")
        await settled(running)
        status, spans = await _status(org)
        assert status == RecordingStatus.PAUSED and spans[0]["end"] is None
        # The card hears it: the call's message says its recording is paused.
        await console.until(lambda f: _recording(f) == "paused")

        resume = {"call_id": call_id, "paused": False}
        ack = await console.command("call.recording_pause", resume, id_="c2")
        assert ack["type"] == "ack", ack
        await watch.wait_for(lambda m: m.event == "MixMonitorMute" and m["State"] == "0")
        await settled(running)
        status, spans = await _status(org)
        assert status == RecordingStatus.RECORDING and spans[0]["end"] is not None
        await console.until(lambda f: _recording(f) == "recording")

        # Someone else's call does not exist for bob.
        bob = await _member(org, "bob", RecordingPolicy.ALL)
        bob_console, _ = await open_agent(await session_cookie(bob.user))
        pause = {"call_id": call_id, "paused": True}
        error = await bob_console.command("call.recording_pause", pause, id_="b1")
        assert error["type"] == "error" and error["data"]["code"] == "not_found"
        await bob_console.close()
        await console.close()
        await watch.close()

    asked = await sync(
        lambda: list(
            AuditEntry.objects.filter(action="pbx.recording_pause")
            .order_by("id")
            .values_list("actor_user_id", "details")
        )
    )()
    assert [who for who, _ in asked] == [alice.user.pk, alice.user.pk]
    assert [d["paused"] for _, d in asked] == ["true", "false"]


async def test_a_call_nobody_records_cannot_be_paused(simulator: AmiSimulator) -> None:
    async with running_bridge(simulator) as running:
        alice = await _member(running.organization_id, "alice", RecordingPolicy.NONE)
        watch = await watch_client(simulator)
        console, _ = await open_agent(await session_cookie(alice.user))
        call_id = await _answered(simulator, console, "1001")
        error = await console.command("call.recording_pause", {"call_id": call_id, "paused": True})
        assert error["type"] == "error" and error["data"]["code"] == "not_recording"
        await console.close()
        await watch.close()
    assert not [m for m in watch.messages if m.event == "MixMonitorMute"]


async def test_on_demand_the_agent_starts_the_recording(simulator: AmiSimulator) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        alice = await _member(org, "alice", RecordingPolicy.ON_DEMAND)
        watch = await watch_client(simulator)
        console, _ = await open_agent(await session_cookie(alice.user))
        place_answered_call(simulator, "1001")
        answered = await console.until(lambda f: f["type"] == "call.answered")
        call_id = int(answered["data"]["call"]["id"])
        # The card offers "Start recording" (call-card.js) from the call's message.
        assert answered["data"]["call"]["recording_on_demand"] is True
        await settled(running)
        assert not [m for m in watch.messages if m.event == "MixMonitorStart"]

        ack = await console.command("call.recording_start", {"call_id": call_id})
        assert ack["type"] == "ack", ack
        start = await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        assert start["Uniqueid"] == start["Linkedid"]  # the customer's leg
        await console.until(lambda f: _recording(f) == "recording")
        again = await console.command("call.recording_start", {"call_id": call_id}, id_="c2")
        assert again["data"]["code"] == "already_recording"

        await sync(Organization.objects.filter(pk=org).update)(recording_policy="none")
        call = await sync(Call.objects.get)(pk=call_id)
        await sync(Recording.objects.filter(call=call).update)(status=RecordingStatus.FAILED)
        off = await console.command("call.recording_start", {"call_id": call_id}, id_="c3")
        assert off["data"]["code"] == "recording_off"
        await console.close()
        await watch.close()
    assert await sync(lambda: Recording.objects.filter(organization_id=org).count())() == 1
