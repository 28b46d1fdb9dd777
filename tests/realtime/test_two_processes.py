"""Two ASGI server processes behind one Redis: what the bridge publishes reaches an agent
on either, and presence is the same on both.

Everything here is a real process on a real socket: two Daphne servers, the bridge
(``run_bridge``) and the AMI simulator playing one answered queue call to alice
(PJSIP/1001) on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.conf import global_settings
from django.core.management import call_command
from django.db import connection

from tests.realtime.processes import (
    Message,
    Processes,
    connect_stream,
    open_stream,
    until_healthy,
)
from tests.realtime.servers import free_port

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
    ),
]


@pytest.fixture
def stack(tmp_path: Path, settings: Any) -> Iterator[tuple[Processes, dict[str, int]]]:
    # The servers check passwords with the project's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    call_command("seed_demo", verbosity=0)
    db = connection.settings_dict
    prefix = f"t2p{uuid.uuid4().hex[:8]}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "REALTIME_", "AMI_"))
    }
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="true",
        CHANNEL_LAYER_PREFIX=prefix,
        REALTIME_KEY_PREFIX=f"{prefix}:rt",
        REALTIME_PRESENCE_GRACE_SECONDS="1",
        DJANGO_DEBUG="false",
    )
    procs = Processes(env, tmp_path)
    ports = {"a": free_port(), "b": free_port(), "ami": free_port()}
    daphne = str(Path(sys.executable).with_name("daphne"))
    try:
        for name in ("a", "b"):
            procs.start(
                f"daphne-{name}",
                [daphne, "-b", "127.0.0.1", "-p", str(ports[name]), "config.asgi:application"],
            )
        yield procs, ports
    finally:
        procs.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _online(agent_id: int, online: bool) -> Callable[[Message], bool]:
    def match(message: Message) -> bool:
        if message["type"] == "snapshot":
            return (agent_id in message["data"]["online_agent_ids"]) is online
        return message["type"] == "agent.presence" and message["data"] == {
            "agent_id": agent_id,
            "online": online,
        }

    return match


def _call(kind: str, number: str) -> Callable[[Message], bool]:
    return lambda f: f["type"] == kind and f["data"]["call"]["caller_number"] == number


async def test_bridge_events_and_presence_across_two_server_processes(
    stack: tuple[Processes, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    procs, ports = stack
    a, b = (f"http://127.0.0.1:{ports[name]}" for name in ("a", "b"))
    await until_healthy(http, a, procs)
    await until_healthy(http, b, procs)

    board_a = await open_stream(http, a, "supervisor", "wallboard")
    board_b = await open_stream(http, b, "supervisor", "wallboard")
    alice = await open_stream(http, a, "alice", "agent")
    alice_id = (await alice.until(lambda f: f["type"] == "snapshot"))["data"]["agent"]["id"]
    # The console is on A; the wallboard on B hears the agent come online as A's does.
    await board_a.until(_online(alice_id, True))
    await board_b.until(_online(alice_id, True))

    # A refusal reaches a real client as its documented close code (not 1006 or 1011).
    refused = await connect_stream(http, b, "alice", "wallboard")
    closing = await refused.receive(timeout=30)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 4403)

    await alice.ws.send_json(
        {"type": "agent.set_state", "id": "s1", "data": {"state": "available", "reason": ""}}
    )
    await alice.until(lambda f: f["type"] == "ack" and f["data"]["id"] == "s1")

    secret = uuid.uuid4().hex
    manage = [sys.executable, "manage.py"]
    simulator = ["--port", str(ports["ami"]), "--secret", secret, "--wait-clients", "1"]
    procs.start(
        "simulator",
        [*manage, "ami_simulator", *simulator, "--scenario", "answered", "--speed", "40"],
    )
    procs.start(
        "bridge",
        [*manage, "run_bridge"],
        AMI_URL=f"ami://bridge:{secret}@127.0.0.1:{ports['ami']}",
        AMI_ORGANIZATION="acme",
    )

    # The bridge is its own process; alice's console on A gets the whole call.
    caller = "+15557654321"
    ringing = await alice.until(_call("call.ringing", caller))
    assert ringing["data"]["leg"] == "offered"
    answered = await alice.until(_call("call.answered", caller))
    assert answered["data"]["call"]["agent_id"] == alice_id
    ended = await alice.until(_call("call.ended", caller))
    assert ended["data"]["call"]["status"] == "completed"
    call_id = ended["data"]["call"]["id"]

    # Both wallboards count the same answered call in the support queue.
    def support(message: Message) -> dict[str, Any] | None:
        if message["type"] != "wallboard.update":
            return None
        return next((q for q in message["data"]["queues"] if q["queue_name"] == "Support"), None)

    def counted(message: Message) -> bool:
        queue = support(message)
        return queue is not None and queue["answered"] == 1

    seen_a = support(await board_a.until(counted))
    seen_b = support(await board_b.until(counted))
    assert seen_a is not None and seen_b is not None
    assert seen_a["offered"] == seen_b["offered"] == 1

    # A second console for alice on B, then A's closes: she stays online (one is left).
    alice_b = await open_stream(http, b, "alice", "agent")
    snapshot_b = await alice_b.until(lambda f: f["type"] == "snapshot")
    assert snapshot_b["data"]["online"] is True
    assert [e["call"]["id"] for e in snapshot_b["data"]["calls"]] == [call_id]
    await alice.ws.close()
    # Proving a non-event takes time: an offline would be announced 1 s (the grace) after.
    await asyncio.sleep(2.5)
    await board_b.ws.send_json({"type": "ping", "id": "p1", "data": {}})
    await board_b.until(lambda f: f["type"] == "pong")
    assert [f["data"]["online"] for f in board_b.messages if f["type"] == "agent.presence"] == [
        True
    ]
    # Closing the last console (on B) turns her offline on both, once, after the grace.
    marks = len(board_a.messages), len(board_b.messages)
    await alice_b.ws.close()
    await board_a.until(_online(alice_id, False), since=marks[0])
    await board_b.until(_online(alice_id, False), since=marks[1])
    going_offline = [f for f in board_b.messages if f["type"] == "agent.presence"]
    assert [f["data"]["online"] for f in going_offline] == [True, False]
    for console in (board_a, board_b):
        await console.ws.close()
    assert "Traceback" not in procs.log("bridge") + procs.log("daphne-a") + procs.log("daphne-b")
