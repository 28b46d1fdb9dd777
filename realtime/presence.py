"""Presence: an agent is online while at least one of their consoles is connected.

Each console connection is an entry with an expiry, refreshed by its consumer every
``ttl / 3`` seconds; a process that dies takes its entries with it once they expire,
so no count is ever left too high. Going offline waits ``REALTIME_PRESENCE_GRACE_SECONDS``
after the last console left, so a reload or a brief drop does not flap. The state last
announced is kept in the store too and swapped atomically, so several processes
announce each change once.

With ``REALTIME_PRESENCE_URL`` (default: ``REDIS_URL``) the entries live in Redis and
hold across server processes; without it they live in this process's memory (the
one-process default).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

from realtime import messages as msgs
from realtime.groups import agent_group, floor_group
from realtime.redisconn import connection_class_for
from realtime.send import message, send_all

logger = logging.getLogger(__name__)

Console = tuple[int, int, str]
"""(organization id, agent id, connection): one console's entry."""


class MemoryStore:
    """Process-local presence (the embedded default and most tests)."""

    def __init__(self) -> None:
        self.connections: dict[int, dict[str, float]] = {}
        self.organizations: dict[int, dict[int, float]] = {}
        self.announced: dict[int, bool] = {}

    async def touch(self, consoles: Iterable[Console]) -> None:
        expires = time.time() + settings.REALTIME_PRESENCE_TTL_SECONDS
        for organization_id, agent_id, connection in consoles:
            self.connections.setdefault(agent_id, {})[connection] = expires
            members = self.organizations.setdefault(organization_id, {})
            members[agent_id] = max(members.get(agent_id, 0.0), expires)

    async def leave(self, agent_id: int, connection: str) -> None:
        self.connections.get(agent_id, {}).pop(connection, None)

    async def live(self, agent_id: int) -> int:
        now = time.time()
        own = self.connections.get(agent_id, {})
        for connection, expires in list(own.items()):
            if expires <= now:
                del own[connection]
        return len(own)

    async def forget(self, organization_id: int, agent_id: int) -> None:
        self.organizations.get(organization_id, {}).pop(agent_id, None)

    async def announce(self, agent_ids: Iterable[int], online: bool) -> list[int]:
        changed = [a for a in agent_ids if self.announced.get(a) is not online]
        for agent_id in changed:
            self.announced[agent_id] = online
        return changed

    def online_agents(self, organization_id: int) -> set[int]:
        now = time.time()
        members = self.organizations.get(organization_id, {})
        return {agent_id for agent_id, expires in members.items() if expires > now}

    def online_among(self, organization_id: int, agent_ids: Iterable[int]) -> set[int]:
        now = time.time()
        members = self.organizations.get(organization_id, {})
        return {agent_id for agent_id in agent_ids if members.get(agent_id, 0.0) > now}

    def anyone_online(self, organization_id: int) -> bool:
        now = time.time()
        return any(e > now for e in self.organizations.get(organization_id, {}).values())


class RedisStore:
    """Presence in Redis: sorted sets scored by expiry time.

    ``<prefix>:agent:<id>``: the agent's connections; ``<prefix>:org:<id>``: the
    organization's agents with a console (read by the publisher to skip rendering for
    agents nobody watches); ``<prefix>:said:<id>``: the state last announced.
    """

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._sync: redis.Redis | None = None

    def _client(self) -> aioredis.Redis:
        # Async connections belong to the loop that opened them.
        loop = asyncio.get_running_loop()
        if loop not in self._async:
            self._async[loop] = aioredis.Redis.from_url(
                self.url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                **connection_class_for(self.url),
            )
        return self._async[loop]

    def _key(self, kind: str, pk: int) -> str:
        return f"{self.prefix}:{kind}:{pk}"

    async def touch(self, consoles: Iterable[Console]) -> None:
        ttl = settings.REALTIME_PRESENCE_TTL_SECONDS
        expires = time.time() + ttl
        keep = math.ceil(ttl * 2)  # the keys outlive their entries; the scores decide
        by_org: dict[int, dict[str, float]] = defaultdict(dict)
        async with self._client().pipeline(transaction=False) as pipe:
            for organization_id, agent_id, connection in consoles:
                agent_key = self._key("agent", agent_id)
                pipe.zadd(agent_key, {connection: expires})
                pipe.expire(agent_key, keep)
                by_org[organization_id][str(agent_id)] = expires
            for organization_id, members in by_org.items():
                org_key = self._key("org", organization_id)
                pipe.zadd(org_key, members, gt=True)
                pipe.expire(org_key, keep)
            await pipe.execute()

    async def leave(self, agent_id: int, connection: str) -> None:
        await self._client().zrem(self._key("agent", agent_id), connection)

    async def live(self, agent_id: int) -> int:
        key = self._key("agent", agent_id)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())
            pipe.zcard(key)
            _, count = await pipe.execute()
        return int(count)

    async def forget(self, organization_id: int, agent_id: int) -> None:
        await self._client().zrem(self._key("org", organization_id), str(agent_id))

    async def announce(self, agent_ids: Iterable[int], online: bool) -> list[int]:
        value = b"1" if online else b"0"
        agent_ids = list(agent_ids)
        async with self._client().pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.set(self._key("said", agent_id), value, get=True, ex=86400)
            previous = await pipe.execute()
        return [a for a, said in zip(agent_ids, previous, strict=True) if said != value]

    def online_agents(self, organization_id: int) -> set[int]:
        members: Any = self._sync_client().zrangebyscore(
            self._key("org", organization_id), time.time(), "+inf"
        )
        return {int(member) for member in members}

    def online_among(self, organization_id: int, agent_ids: Iterable[int]) -> set[int]:
        # The publisher's question: of the agents a change names, who is watching. It asks
        # for their entries only; the whole organization's (a thousand at a large floor)
        # cost every render job more than its database reads.
        agent_ids = list(agent_ids)
        if not agent_ids:
            return set()
        key = self._key("org", organization_id)
        scores: Any = self._sync_client().zmscore(key, [str(a) for a in agent_ids])
        now = time.time()
        return {a for a, score in zip(agent_ids, scores, strict=True) if score and score > now}

    def anyone_online(self, organization_id: int) -> bool:
        key = self._key("org", organization_id)
        return bool(self._sync_client().zcount(key, time.time(), "+inf"))

    def _sync_client(self) -> redis.Redis:
        # The publisher's, in synchronous code after a commit.
        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url)
        return self._sync


Store = MemoryStore | RedisStore
_memory = MemoryStore()
_redis: dict[tuple[str, str], RedisStore] = {}


def store() -> Store:
    url = settings.REALTIME_PRESENCE_URL
    if not url:
        return _memory
    key = (url, settings.REALTIME_KEY_PREFIX)
    if key not in _redis:
        _redis[key] = RedisStore(url, f"{settings.REALTIME_KEY_PREFIX}:presence")
    return _redis[key]


def reset_memory() -> None:
    """Forget every process-local entry (tests)."""
    global _memory
    _memory = MemoryStore()


def online_agents(organization_id: int) -> set[int]:
    """Agents of the organization with a console connected (or within its expiry)."""
    return store().online_agents(organization_id)


def online_among(organization_id: int, agent_ids: Iterable[int]) -> set[int]:
    """Those of ``agent_ids`` who are online (as ``online_agents``, for a few agents)."""
    return store().online_among(organization_id, agent_ids)


def anyone_online(organization_id: int) -> bool:
    """Whether any agent of the organization has a console (one cheap read)."""
    return store().anyone_online(organization_id)


# -- a console's life -----------------------------------------------------------------------

_settling: set[asyncio.Task[None]] = set()


async def _announce(organization_id: int, agent_ids: Iterable[int], online: bool) -> None:
    for agent_id in await store().announce(agent_ids, online):
        # Presence is not a database change: announced here, to the agent's consoles
        # and the organization's wallboards.
        data = msgs.AgentPresenceData(agent_id=agent_id, online=online)
        said = message("agent.presence", data)
        await send_all([(agent_group(agent_id), said), (floor_group(organization_id), said)])


class Heart:
    """The heartbeat of one server process (event loop): every ``ttl / 3`` seconds one
    Redis round trip refreshes the entries of all its consoles, instead of one round
    trip each (at 1,000 consoles, 50 a second). Announcing again heals a race with
    another process's grace check."""

    def __init__(self) -> None:
        self.consoles: dict[str, tuple[int, int]] = {}  # connection -> (org, agent)
        self.task: asyncio.Task[None] | None = None

    def add(self, organization_id: int, agent_id: int, connection: str) -> None:
        self.consoles[connection] = (organization_id, agent_id)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, connection: str) -> None:
        self.consoles.pop(connection, None)

    async def _run(self) -> None:
        try:
            while self.consoles:
                # A timer by nature: the entries must be refreshed before they expire.
                await asyncio.sleep(settings.REALTIME_PRESENCE_TTL_SECONDS / 3)
                try:
                    await self.beat()
                except Exception:
                    # Redis away: the next beat tries again; entries outlive two misses.
                    logger.exception("presence: heartbeat failed")
        finally:
            self.task = None

    async def beat(self) -> None:
        consoles = [(org, agent, conn) for conn, (org, agent) in self.consoles.items()]
        if not consoles:
            return
        await store().touch(consoles)
        by_org: dict[int, set[int]] = defaultdict(set)
        for organization_id, agent_id, _ in consoles:
            by_org[organization_id].add(agent_id)
        for organization_id, agent_ids in by_org.items():
            await _announce(organization_id, sorted(agent_ids), True)


_hearts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Heart] = weakref.WeakKeyDictionary()


def heart() -> Heart:
    """This event loop's heartbeat (Daphne runs one loop per process; tests run many)."""
    return _hearts.setdefault(asyncio.get_running_loop(), Heart())


async def console_connected(*, organization_id: int, agent_id: int, connection: str) -> None:
    await store().touch([(organization_id, agent_id, connection)])
    await _announce(organization_id, [agent_id], True)
    heart().add(organization_id, agent_id, connection)


async def console_closed(*, organization_id: int, agent_id: int, connection: str) -> None:
    heart().discard(connection)
    await store().leave(agent_id, connection)
    task = asyncio.get_running_loop().create_task(_settle(organization_id, agent_id))
    _settling.add(task)  # keeps the task alive after its consumer is gone
    task.add_done_callback(_settling.discard)


async def _settle(organization_id: int, agent_id: int) -> None:
    # The grace period is a timer by definition: nothing else could end it sooner.
    await asyncio.sleep(settings.REALTIME_PRESENCE_GRACE_SECONDS)
    current = store()
    if await current.live(agent_id):
        return
    await current.forget(organization_id, agent_id)
    await _announce(organization_id, [agent_id], False)


async def is_online(agent_id: int) -> bool:
    return await store().live(agent_id) > 0
