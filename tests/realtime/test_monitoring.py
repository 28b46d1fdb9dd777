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

    # Whisper: the same monitoring call switches (ChanSpy's key 5, pressed for the
    # supervisor: PlayDTMF with Receive on their channel); no new call rings.
    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "whisper"}, id_="c2")
    assert ack["data"]["result"]["session"] == session
    key = await watcher.wait_for(lambda m: m.event == "DTMFEnd")
    assert (key.get("Channel"), key.get("Digit"), key.get("Direction")) == (
        started.get("SpyerChannel"),
        "5",
        "Received",
    )
    assert spy.app_data.endswith(",qwdE")
    # And barge, then back to whisper: the same call throughout.
    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "barge"}, id_="c3")
    assert ack["data"]["result"]["session"] == session and spy.app_data.endswith(",qBdE")
    ack = await board.command("call.monitor", {"call_id": call_id, "mode": "whisper"}, id_="c4")
    assert ack["data"]["result"]["session"] == session and spy.app_data.endswith(",qwdE")
    assert [m for m in floor.simulator.pbx.channels.values() if m.application == "ChanSpy"] == [spy]

    ack = await board.command("call.monitor_stop", {"call_id": call_id}, id_="c5")
    assert ack["data"]["result"]["pbx"]["ok"] is True
    await watcher.wait_for(lambda m: m.event == "ChanSpyStop" and m.get("SpyerUniqueid") == session)
    await floor.settled()

    timeline = await sync(_timeline)(call_id)
    assert [(kind, d["session"], d["mode"]) for kind, d in timeline] == [
        ("monitor.started", session, "listen"),
        ("monitor.mode_changed", session, "whisper"),
        ("monitor.mode_changed", session, "barge"),
        ("monitor.mode_changed", session, "whisper"),
        # ChanSpy reports no switch: the bridge ends the session in the mode it set.
        ("monitor.stopped", session, "whisper"),
    ]
    assert [d.get("from") for kind, d in timeline if kind == "monitor.mode_changed"] == [
        "listen",
        "whisper",
        "barge",
    ]
    sam = floor.agents["sam"]
    assert timeline[0][1]["supervisor"] == {"user_id": sam.user_id, "name": "Sam Super"}
    assert timeline[0][1]["agent"] == "PJSIP/1001"
    assert timeline[1][1]["supervisor"] == {"user_id": sam.user_id, "name": "Sam Super"}
    assert isinstance(timeline[-1][1]["seconds"], int)
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
        *[("pbx.monitor_mode", supervisor)] * 3,
        ("pbx.monitor_stop", supervisor),
    ]
    # The switches are the supervisor's (the PBX reports none); the start and the end
    # are what the PBX reported (no user: the PBX).
    assert [e for e in entries if e[0] == "monitor.mode_changed"] == [
        ("monitor.mode_changed", supervisor)
    ] * 3
    reported = [action for action, who in entries if who is None]
    assert reported == ["monitor.started", "monitor.stopped"]
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
