"""The production wiring: channels-redis between publisher and consoles, presence and
tickets in Redis, so every server process sees the same."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest
import redis.asyncio
from channels.layers import get_channel_layer

from realtime import presence
from realtime.protocol import CloseCode
from telephony.models import AsteriskConnection
from tests.realtime.fakebridge import FakeBridge
from tests.realtime.script import CallScript, apply
from tests.realtime.support import Socket, open_agent, open_board, presence_of, session_cookie, sync

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL"),
]


@pytest.fixture(autouse=True)
def on_redis(settings: Any) -> None:
    # A prefix of its own: test runs sharing the Redis server never hear each other.
    prefix = f"test-rt-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.CountingRedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": 15, "health_check_interval": 10}
                ],
                "prefix": prefix,
            },
        }
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.REALTIME_PRESENCE_URL = REDIS_URL
    settings.REALTIME_KEY_PREFIX = prefix
    settings.REALTIME_PRESENCE_GRACE_SECONDS = 0.2


async def test_events_commands_and_presence_over_redis(desk: Any) -> None:
    board, _ = await open_board(desk.supervisor)
    console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    agent = desk.agent.pk
    await board.until(presence_of(agent, True))
    # Another server process (its own Redis clients) sees the same presence.
    elsewhere = presence.RedisStore(REDIS_URL, f"{presence.store().prefix}")
    assert elsewhere.online_agents(desk.org.pk) == {agent}
    assert elsewhere.online_among(desk.org.pk, [agent, agent + 1000]) == {agent}
    assert elsewhere.anyone_online(desk.org.pk)
    assert not elsewhere.anyone_online(desk.org.pk + 1000)

    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(desk.agent.interface))
    ringing = await console.until(lambda f: f["type"] == "call.ringing")
    assert ringing["data"]["pop"]["number"] == call.caller
    await board.until(lambda f: f["type"] == "wallboard.update")

    # A console of the same agent in another process keeps them online when this one
    # closes; when it goes too, offline is announced once.
    await elsewhere.touch([(desk.org.pk, agent, "other-process")])
    await console.close()
    assert [f for f in await board.drain(0.5) if f["type"] == "agent.presence"] == []
    await elsewhere.leave(agent, "other-process")
    await presence._settle(desk.org.pk, agent)  # what the other process's close runs
    await presence._settle(desk.org.pk, agent)  # a second process settling: no repeat
    await board.until(presence_of(agent, False))
    assert [f for f in await board.drain(0.3) if f["type"] == "agent.presence"] == []
    await board.close()


async def test_pbx_commands_over_redis(desk: Any) -> None:
    board, _ = await open_board(desk.supervisor)
    console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(desk.agent.interface))
    await console.until(lambda f: f["type"] == "call.ringing")
    record = await sync(AsteriskConnection.objects.create)(
        organization=desk.org, name="pbx", host="h", username="u", secret="s"
    )
    try:
        async with FakeBridge(desk.org.pk, f"asterisk:{record.pk}") as bridge:
            ack = await console.command("call.originate", {"number": "+15557654321"})
        assert bridge.received[0][0] == "originate"
        assert ack["type"] == "ack", ack
    finally:
        await console.close()
        await board.close()


async def test_a_ticket_opens_one_socket_across_processes(desk: Any) -> None:
    from realtime.tickets import ticket_issue

    ticket = ticket_issue(user_id=desk.agent_member.user_id)
    first = Socket(f"/ws/agent/?ticket={ticket}")
    assert (await first.open())[0]
    # The nonce is claimed in Redis: any other process refuses the same ticket.
    second = Socket(f"/ws/agent/?ticket={ticket}")
    assert (await second.open()) == (False, 4401)
    await first.close()


async def test_a_lost_subscription_closes_the_screens_and_they_come_back_fresh(desk: Any) -> None:
    """Redis pub/sub keeps nothing for a process that was not connected: when the
    process's subscription connection drops, its screens may have missed messages, so
    they close with 4503; the console reconnects and its new snapshot is current."""
    board, _ = await open_board(desk.supervisor)
    console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    shard = get_channel_layer()._get_layer()._shards[0]
    _host, port = shard._pubsub.connection._writer.get_extra_info("sockname")[:2]
    admin = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        # The server drops the connection, as a restart or a network cut would.
        assert await admin.client_kill_filter(_type="pubsub", addr=f"127.0.0.1:{port}") == 1
    finally:
        await admin.aclose()
    assert await console.closed_with() == CloseCode.LAYER_LOST
    assert await board.closed_with() == CloseCode.LAYER_LOST

    # A call rang while nobody could hear it: the reconnected console's snapshot has it,
    # and what happens next to it is heard again.
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(desk.agent.interface))
    again, snapshot = await open_agent(await session_cookie(desk.agent_member.user))
    assert [entry["leg"] for entry in snapshot["calls"]] == ["offered"]
    await apply(desk.org, call.answered(desk.agent.interface))
    answered = await again.until(lambda f: f["type"] == "call.answered")
    assert answered["data"]["call"]["id"] == snapshot["calls"][0]["call"]["id"]
    await again.close()


async def test_an_expired_entry_is_not_online_among_others(settings: Any) -> None:
    """The publisher asks only about the agents a change names; an entry past its expiry
    (its process died) counts as offline there too."""
    settings.REALTIME_PRESENCE_TTL_SECONDS = 0.2
    store = presence.store()
    assert isinstance(store, presence.RedisStore)
    await store.touch([(7, 41, "dead-process")])
    assert store.anyone_online(7)
    await asyncio.sleep(0.3)  # past the entry's expiry: a timer by nature
    assert not store.anyone_online(7)
    settings.REALTIME_PRESENCE_TTL_SECONDS = 60
    await store.touch([(7, 42, "live-process")])
    assert store.online_among(7, [41, 42, 43]) == {42}
    assert store.online_among(7, []) == set()
    assert store.anyone_online(7)
