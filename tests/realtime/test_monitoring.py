"""A supervisor listens to, whispers to and barges into an agent's call: the bridge
rings the supervisor's own phone with ChanSpy on the agent's channel (the real bridge,
the AMI simulator over TCP), and each session is on the call's timeline and audited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contactcenter.models import AuditEntry, CallEvent
from tests.realtime.pbxfloor import SUPERVISOR_PHONE, Floor, pbx_floor
from tests.realtime.support import Socket, open_agent, open_board, session_cookie, sync
from tests.telephony.amiclient import AmiTestClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def floor() -> AsyncIterator[Floor]:
    async with pbx_floor() as floor:
        yield floor


async def _alice_on_a_call(floor: Floor) -> tuple[Socket, int]:
    alice_console, _ = await open_agent(await session_cookie(floor.members["alice"].user))
    floor.place_call("alice's call", agents=("1001",), answer_after=0, talk=3600)
    answered = await alice_console.until(lambda f: f["type"] == "call.answered")
    return alice_console, answered["data"]["call"]["id"]


def _timeline(call_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = CallEvent.objects.filter(call_id=call_id, type__startswith="monitor.").order_by("id")
    return [(row.type, row.details) for row in rows]


async def test_listen_then_whisper_then_stop(floor: Floor) -> None:
    watcher = await AmiTestClient.connect(floor.simulator.port)
    await watcher.login(floor.simulator.config.username, floor.simulator.config.secret)
    alice_console, call_id = await _alice_on_a_call(floor)
    board, _ = await open_board(floor.members["supervisor"])

    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "listen"})
    assert ack["type"] == "ack", ack
    session = ack["data"]["result"]["session"]
    started = await watcher.wait_for(lambda m: m.event == "ChanSpyStart")
    assert started.get("SpyerUniqueid") == session
    assert (started.get("SpyerChannel") or "").startswith(f"PJSIP/{SUPERVISOR_PHONE}-")
    assert (started.get("SpyeeChannel") or "").startswith("PJSIP/1001-")
    spy = floor.simulator.pbx.channel(started.get("SpyerChannel") or "")
    assert spy is not None
    assert (spy.application, spy.app_data) == ("ChanSpy", f"{started.get('SpyeeChannel')},qdE")

    # Whisper: the listening call ends and a whispering one rings the phone.
    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "whisper"}, id_="c2")
    whisper = ack["data"]["result"]["session"]
    await watcher.wait_for(lambda m: m.event == "ChanSpyStop" and m.get("SpyerUniqueid") == session)
    second = await watcher.wait_for(
        lambda m: m.event == "ChanSpyStart" and m.get("SpyerUniqueid") == whisper
    )
    spy = floor.simulator.pbx.channel(second.get("SpyerChannel") or "")
    assert spy is not None and spy.app_data.endswith(",qwdE")

    ack = await board.command("call.monitor_stop", {"call_id": call_id}, id_="c3")
    assert ack["data"]["result"]["pbx"]["ok"] is True
    await watcher.wait_for(lambda m: m.event == "ChanSpyStop" and m.get("SpyerUniqueid") == whisper)
    await floor.settled()

    timeline = await sync(_timeline)(call_id)
    assert [(kind, d["session"], d["mode"]) for kind, d in timeline] == [
        ("monitor.started", session, "listen"),
        ("monitor.stopped", session, "listen"),
        ("monitor.started", whisper, "whisper"),
        ("monitor.stopped", whisper, "whisper"),
    ]
    sam = floor.agents["sam"]
    assert timeline[0][1]["supervisor"] == {"user_id": sam.user_id, "name": "Sam Super"}
    assert timeline[0][1]["agent"] == "PJSIP/1001"
    assert isinstance(timeline[1][1]["seconds"], int)
    # The spy legs are no calls, and the call is still alice's, live.
    assert await sync(lambda: CallEvent.objects.values("call_id").distinct().count())() == 1
    assert await sync(lambda: CallEvent.objects.filter(agent=sam).count())() == 0

    @sync
    def audited() -> list[tuple[str, Any]]:
        rows = AuditEntry.objects.filter(action__contains="monitor").order_by("id")
        return [(row.action, row.actor_user_id) for row in rows]

    supervisor = floor.members["supervisor"].user.pk
    entries = await audited()
    # Who asked (the supervisor), and what the PBX then reported (no user: the PBX).
    asked = [entry for entry in entries if entry[0].startswith("pbx.")]
    assert asked == [
        ("pbx.monitor", supervisor),
        ("pbx.monitor", supervisor),
        ("pbx.monitor_stop", supervisor),
    ]
    reported = [action for action, who in entries if who is None]
    assert reported == ["monitor.started", "monitor.stopped"] * 2
    for socket in (board, alice_console):
        await socket.close()


async def test_the_session_ends_with_the_call(floor: Floor) -> None:
    alice_console, call_id = await _alice_on_a_call(floor)
    board, _ = await open_board(floor.members["supervisor"])
    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "barge"})
    session = ack["data"]["result"]["session"]
    watcher = await AmiTestClient.connect(floor.simulator.port)
    await watcher.login(floor.simulator.config.username, floor.simulator.config.secret)
    # Started already, or soon: ChanSpyStart comes once the supervisor's phone answers.
    spy = await watcher.wait_for(lambda m: m.event == "Newstate" and m.get("Uniqueid") == session)
    assert (spy.get("Channel") or "").startswith(f"PJSIP/{SUPERVISOR_PHONE}-")
    hangup = await board.command("call.force_hangup", {"call_id": call_id}, id_="c2")
    assert hangup["type"] == "ack", hangup
    # E: ChanSpy ends with the spied channel; no ChanSpyStop, the spy leg's Hangup ends it.
    await watcher.wait_for(lambda m: m.event == "Hangup" and m.get("Uniqueid") == session)
    await alice_console.until(lambda f: f["type"] == "call.ended")
    await floor.settled()
    timeline = await sync(_timeline)(call_id)
    assert [(kind, d["mode"]) for kind, d in timeline] == [
        ("monitor.started", "barge"),
        ("monitor.stopped", "barge"),
    ]
    for socket in (board, alice_console):
        await socket.close()


async def test_refusals(floor: Floor, floor_b: Any) -> None:
    alice_console, call_id = await _alice_on_a_call(floor)
    # The admin has no phone: told so, nothing rings.
    board, _ = await open_board(floor.members["admin"])
    error = await board.command("call.monitor", {"call_id": call_id, "mode": "listen"})
    assert error["data"]["code"] == "no_phone", error
    assert "phone" in error["data"]["message"]
    error = await board.command("call.monitor", {"call_id": call_id, "mode": "spy"}, id_="c2")
    assert error["data"]["code"] == "invalid"
    await board.close()
    # An agent's stream has no such command; another organization's supervisor finds no call.
    error = await alice_console.command("call.monitor", {"call_id": call_id, "mode": "listen"})
    assert error["data"]["code"] == "unknown_type"
    other, _ = await open_board(floor_b.supervisor)
    error = await other.command("call.monitor", {"call_id": call_id, "mode": "listen"})
    assert error["data"]["code"] == "not_found"
    await other.close()
    assert await sync(AuditEntry.objects.filter(action__contains="monitor").count)() == 0
    assert floor.simulator.pbx.channels_of(SUPERVISOR_PHONE) == []
    await alice_console.close()
