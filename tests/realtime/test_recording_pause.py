"""An agent pauses and resumes the recording of their call from the console: the
command goes through the service, the telephony port and the real bridge to the AMI
simulator over TCP (MixMonitorMute), and the PBX's report pauses the recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.models import AuditEntry, Membership, Organization, Recording
from telephony.ami.simulator import AmiSimulator
from telephony.ami.simulator.scenarios import InboundPlan, inbound_call
from tests.realtime.support import open_agent, session_cookie, sync
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.bridge_harness import Running, running_bridge
from tests.telephony.conftest import SECRET, fast_config

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with AmiSimulator(fast_config(speed=1.0)) as sim:
        yield sim


async def _watch(sim: AmiSimulator) -> AmiTestClient:
    client = await AmiTestClient.connect(sim.port)
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "FullyBooted")
    return client


async def _settled(running: Running) -> None:
    await running.bridge.synced()
    await running.bridge.drained()


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


async def _answered(sim: AmiSimulator, console: Any, phone: str) -> int:
    plan = InboundPlan(caller_num="+15557654321", agents=(phone,), answer_after=0, talk=3600)
    sim.agenda.spawn(inbound_call(sim.pbx, plan), name="recorded")
    answered = await console.until(lambda f: f["type"] == "call.answered")
    return int(answered["data"]["call"]["id"])


async def test_the_agent_pauses_and_resumes_the_recording(simulator: AmiSimulator) -> None:
    async with running_bridge(simulator) as running:
        org = running.organization_id
        alice = await _member(org, "alice", RecordingPolicy.ALL)
        watch = await _watch(simulator)
        console, _ = await open_agent(await session_cookie(alice.user))
        call_id = await _answered(simulator, console, "1001")
        await watch.wait_for(lambda m: m.event == "MixMonitorStart")
        await _settled(running)

        ack = await console.command("call.recording_pause", {"call_id": call_id, "paused": True})
        assert ack["type"] == "ack", ack
        assert ack["data"]["result"]["pbx"]["ok"] is True
        mute = await watch.wait_for(lambda m: m.event == "MixMonitorMute")
        assert (mute["State"], mute["Direction"]) == ("1", "both")
        await _settled(running)
        status, spans = await _status(org)
        assert status == RecordingStatus.PAUSED and spans[0]["end"] is None

        resume = {"call_id": call_id, "paused": False}
        ack = await console.command("call.recording_pause", resume, id_="c2")
        assert ack["type"] == "ack", ack
        await watch.wait_for(lambda m: m.event == "MixMonitorMute" and m["State"] == "0")
        await _settled(running)
        status, spans = await _status(org)
        assert status == RecordingStatus.RECORDING and spans[0]["end"] is not None

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
        watch = await _watch(simulator)
        console, _ = await open_agent(await session_cookie(alice.user))
        call_id = await _answered(simulator, console, "1001")
        error = await console.command("call.recording_pause", {"call_id": call_id, "paused": True})
        assert error["type"] == "error" and error["data"]["code"] == "not_recording"
        await console.close()
        await watch.close()
    assert not [m for m in watch.messages if m.event == "MixMonitorMute"]
