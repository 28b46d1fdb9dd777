"""Bad input: an error message and the socket stays up, or a documented close code; the
server keeps serving everyone else."""

from __future__ import annotations

from typing import Any

import pytest

from realtime.protocol import CloseCode
from tests.realtime.support import Socket, open_agent, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def error_for(socket: Socket, payload: Any) -> dict[str, Any]:
    await socket.send(payload)
    message = await socket.until(lambda f: f["type"] == "error")
    return dict(message["data"])


async def still_serving(socket: Socket, id_: str = "alive") -> None:
    await socket.send({"type": "ping", "id": id_})
    pong = await socket.until(lambda f: f["type"] == "pong")
    assert pong["data"] == {"id": id_}


async def test_malformed_input_gets_an_error_and_the_socket_stays_up(floor_a: Any) -> None:
    socket, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    assert (await error_for(socket, "{not json"))["code"] == "bad_json"
    assert (await error_for(socket, "[1, 2]"))["code"] == "invalid"
    unknown = await error_for(socket, {"type": "call.teleport", "id": "u1", "data": {}})
    assert unknown == {
        "id": "u1",
        "code": "unknown_type",
        "message": "Unknown command 'call.teleport'.",
        "details": None,
    }
    no_id = await error_for(socket, {"type": "call.hangup", "data": {"call_id": 1}})
    assert no_id["code"] == "invalid"
    assert no_id["id"] is None
    extra = await error_for(
        socket, {"type": "call.hangup", "id": "x1", "data": {"call_id": 1, "force": True}}
    )
    assert extra["code"] == "invalid"
    assert extra["id"] == "x1"
    assert extra["details"]["errors"][0]["field"] == "force"
    wrong_type = await error_for(
        socket, {"type": "call.hangup", "id": "x2", "data": {"call_id": "1"}}
    )
    assert wrong_type["code"] == "invalid"
    envelope = await error_for(socket, {"type": "ping", "id": "p", "data": {}, "more": 1})
    assert envelope["code"] == "invalid"
    assert envelope["id"] == "p"
    await socket.comm.send_to(bytes_data=b"\x00\x01")
    assert (await socket.until(lambda f: f["type"] == "error"))["data"]["code"] == "binary"
    await still_serving(socket)
    await socket.close()


async def test_oversized_message_closes_with_4009(floor_a: Any, settings: Any) -> None:
    settings.REALTIME_MAX_MESSAGE_BYTES = 1024
    socket, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    notes = {"type": "call.set_notes", "id": "big", "data": {"call_id": 1, "notes": "x" * 2000}}
    await socket.send(notes)
    assert await socket.closed_with() == CloseCode.MESSAGE_TOO_BIG == 4009
    assert socket.messages[-1]["type"] == "error"
    assert socket.messages[-1]["data"]["code"] == "too_big"


async def test_a_flood_is_closed_with_4429_and_others_are_still_served(
    floor_a: Any, settings: Any
) -> None:
    settings.REALTIME_RATE_PER_SECOND = 5
    settings.REALTIME_RATE_BURST = 10
    flooder, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    bystander, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    for n in range(40):
        await flooder.send({"type": "ping", "id": str(n)})
    assert await flooder.closed_with() == CloseCode.TOO_MANY_MESSAGES
    assert flooder.messages[-1]["data"]["code"] == "flood"
    # Within its burst, each ping was answered before the close.
    assert len(flooder.of_type("pong")) == 10
    await still_serving(bystander)
    await bystander.close()


async def test_too_many_commands_in_flight(floor_a: Any, settings: Any) -> None:
    from tests.realtime.fakebridge import connect_pbx

    settings.REALTIME_MAX_PENDING_COMMANDS = 1
    settings.REALTIME_PBX_TIMEOUT_SECONDS = 1
    await connect_pbx(floor_a.org)  # no bridge listens: the first command waits
    socket, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    await socket.send({"type": "call.originate", "id": "slow", "data": {"number": "100"}})
    busy = await error_for(
        socket, {"type": "call.originate", "id": "next", "data": {"number": "1"}}
    )
    assert busy["code"] == "busy"
    assert busy["id"] == "next"
    # Events and pings still flow while the command waits.
    await still_serving(socket)
    slow = await socket.until(lambda f: f["type"] == "error" and f["data"]["id"] == "slow")
    assert slow["data"]["details"]["pbx"]["error"] == "timeout"
    await socket.close()


async def test_seq_increases_and_ts_is_utc(floor_a: Any) -> None:
    socket, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    await still_serving(socket)
    assert [f["seq"] for f in socket.messages] == list(range(1, len(socket.messages) + 1))
    assert all(f["ts"].endswith("Z") for f in socket.messages)
    await socket.close()


async def test_the_wallboard_takes_no_console_commands(floor_a: Any) -> None:
    from tests.realtime.support import open_board

    board, _ = await open_board(floor_a.supervisor)
    refused = await error_for(
        board, {"type": "agent.set_state", "id": "s", "data": {"state": "available"}}
    )
    assert refused["code"] == "unknown_type"
    await still_serving(board)
    await board.close()
