"""How many sockets each user holds open: at most ``REALTIME_MAX_SOCKETS_PER_USER``.

One user could otherwise open sockets without end (150 wallboards from one supervisor
account), each a snapshot to build and a subscriber for every broadcast. Every socket,
console or wallboard, claims a slot when it is accepted and gives it back when it
closes; a claim beyond the limit is refused (``CloseCode.TOO_MANY_SOCKETS``).

The slots are counted where presence is (``REALTIME_PRESENCE_URL``, default
``REDIS_URL``), so the limit holds across server processes: a sorted set per user,
scored by expiry, claimed by one script (count, then add, atomically). Each process
refreshes its own slots every third of ``REALTIME_PRESENCE_TTL_SECONDS``; a process
that dies stops refreshing, and its slots stop counting once they expire. Without
Redis the slots live in this process's memory.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Iterable

import redis.asyncio as aioredis
import redis.exceptions
from django.conf import settings

from realtime.redisconn import connection_class_for

logger = logging.getLogger(__name__)

Slot = tuple[int, str]
"""(user id, connection): one socket's slot."""

# Expired slots out, then a slot for this connection if the user has fewer than the
# limit (an existing slot is just renewed). Returns 1 when the slot is held.
_CLAIM = """
local key = KEYS[1]
local now, expires, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, ARGV[4]) and redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, expires, ARGV[4])
redis.call('EXPIRE', key, tonumber(ARGV[5]))
return 1
"""


class MemorySlots:
    def __init__(self) -> None:
        self.users: dict[int, dict[str, float]] = {}

    async def claim(self, user_id: int, connection: str, limit: int) -> bool:
        now = time.time()
        held = self.users.setdefault(user_id, {})
        for other, expires in list(held.items()):
            if expires <= now:
                del held[other]
        if connection not in held and len(held) >= limit:
            return False
        held[connection] = now + settings.REALTIME_PRESENCE_TTL_SECONDS
        return True

    async def release(self, user_id: int, connection: str) -> None:
        self.users.get(user_id, {}).pop(connection, None)

    async def refresh(self, slots: Iterable[Slot]) -> None:
        expires = time.time() + settings.REALTIME_PRESENCE_TTL_SECONDS
        for user_id, connection in slots:
            held = self.users.get(user_id, {})
            if connection in held:
                held[connection] = expires


class RedisSlots:
    """``<prefix>:sockets:<user id>``: the user's connections, scored by expiry."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> aioredis.Redis:
        # Async connections belong to the loop that opened them.
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = aioredis.Redis.from_url(
                self.url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                **connection_class_for(self.url),
            )
        return self._clients[loop]

    def _key(self, user_id: int) -> str:
        return f"{self.prefix}:{user_id}"

    async def claim(self, user_id: int, connection: str, limit: int) -> bool:
        ttl = settings.REALTIME_PRESENCE_TTL_SECONDS
        now = time.time()
        held = await self._client().eval(
            _CLAIM, 1, self._key(user_id), now, now + ttl, limit, connection, math.ceil(ttl * 2)
        )
        return bool(held)

    async def release(self, user_id: int, connection: str) -> None:
        await self._client().zrem(self._key(user_id), connection)

    async def refresh(self, slots: Iterable[Slot]) -> None:
        ttl = settings.REALTIME_PRESENCE_TTL_SECONDS
        expires = time.time() + ttl
        async with self._client().pipeline(transaction=False) as pipe:
            for user_id, connection in slots:
                # xx: a slot released meanwhile is not brought back.
                pipe.zadd(self._key(user_id), {connection: expires}, xx=True)
                pipe.expire(self._key(user_id), math.ceil(ttl * 2))
            await pipe.execute()


Store = MemorySlots | RedisSlots
_memory = MemorySlots()
_redis: dict[tuple[str, str], RedisSlots] = {}


def store() -> Store:
    url = settings.REALTIME_PRESENCE_URL
    if not url:
        return _memory
    key = (url, settings.REALTIME_KEY_PREFIX)
    if key not in _redis:
        _redis[key] = RedisSlots(url, f"{settings.REALTIME_KEY_PREFIX}:sockets")
    return _redis[key]


def reset_memory() -> None:
    """Forget every process-local slot (tests)."""
    global _memory
    _memory = MemorySlots()


class Keeper:
    """Refreshes the slots of one event loop's sockets, one round trip for all."""

    def __init__(self) -> None:
        self.slots: set[Slot] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, slot: Slot) -> None:
        self.slots.add(slot)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, slot: Slot) -> None:
        self.slots.discard(slot)

    async def _run(self) -> None:
        try:
            while self.slots:
                # A timer by nature: the slots must be refreshed before they expire.
                await asyncio.sleep(settings.REALTIME_PRESENCE_TTL_SECONDS / 3)
                try:
                    await store().refresh(list(self.slots))
                except redis.exceptions.RedisError:
                    logger.warning("sockets: cannot refresh the slots", exc_info=True)
        finally:
            self.task = None


_keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Keeper] = weakref.WeakKeyDictionary()


def _keeper() -> Keeper:
    return _keepers.setdefault(asyncio.get_running_loop(), Keeper())


async def socket_claim(*, user_id: int, connection: str) -> bool:
    """Whether the user may hold one more socket; if so, the slot is theirs until
    ``socket_release``. Redis away: allowed (the limit is a guard, not a lock)."""
    limit = settings.REALTIME_MAX_SOCKETS_PER_USER
    if limit <= 0:
        return True
    try:
        held = await store().claim(user_id, connection, limit)
    except redis.exceptions.RedisError:
        logger.warning("sockets: cannot count user %s's sockets; allowed", user_id, exc_info=True)
        return True
    if held:
        _keeper().add((user_id, connection))
    return held


async def socket_release(*, user_id: int, connection: str) -> None:
    _keeper().discard((user_id, connection))
    try:
        await store().release(user_id, connection)
    except redis.exceptions.RedisError:
        # The slot expires on its own, unrefreshed.
        logger.warning("sockets: cannot release user %s's slot", user_id, exc_info=True)
