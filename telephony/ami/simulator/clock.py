"""Simulated time and the agenda that runs call scripts against it.

A call script is a generator that changes the PBX model and then yields how many
simulated seconds to wait before its next step. The agenda interleaves many such
scripts in timestamp order, which makes a run with a given seed fully deterministic.

Time is kept in integer microseconds since the epoch, because AMI timestamps have
exactly six decimals and float epochs lose the last digit.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

Script = Generator[float, None, None]
USEC = 1_000_000


def format_timestamp(usec: int) -> str:
    """``1741950000.104512``: the AMI Timestamp form."""
    return f"{usec // USEC}.{usec % USEC:06d}"


class SimClock:
    """Simulated epoch time in microseconds.

    It follows the wall clock scaled by ``speed`` (simulated seconds per real
    second) plus an offset that only grows: fast-forwarding moves the offset, so the
    clock never goes back and keeps running from wherever it was pushed to.
    ``speed=None`` means "as fast as possible": the agenda jumps to the next due
    step instead of waiting, and the clock moves only by those jumps, so a seeded
    run produces the same timestamps every time.
    """

    def __init__(self, *, start_epoch: float | None = None, speed: float | None = 1.0) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive, or None for as fast as possible")
        start = start_epoch if start_epoch is not None else datetime.now(UTC).timestamp()
        self._speed = speed
        self._base_usec = round(start * USEC)
        self._base_real = time.monotonic()
        self._offset = 0
        self._last = 0

    @property
    def speed(self) -> float | None:
        return self._speed

    @property
    def paced(self) -> bool:
        return self._speed is not None

    def set_speed(self, speed: float | None) -> None:
        """Change the pace from now on, without a jump in simulated time."""
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive, or None for as fast as possible")
        now = self.now()
        self._speed = speed
        self._base_usec = now
        self._base_real = time.monotonic()
        self._offset = 0

    def now(self) -> int:
        if self._speed is None:
            return max(self._base_usec + self._offset, self._last)
        elapsed = round((time.monotonic() - self._base_real) * self._speed * USEC)
        return max(self._base_usec + elapsed + self._offset, self._last)

    def tick(self) -> int:
        """A timestamp strictly after the previous one: events never share a Timestamp."""
        stamp = max(self.now(), self._last + 1)
        self._last = stamp
        return stamp

    def advance_to(self, usec: int) -> None:
        behind = usec - self.now()
        if behind > 0:
            self._offset += behind

    def real_seconds_until(self, usec: int) -> float:
        if self._speed is None:
            return 0.0
        return max(0.0, (usec - self.now()) / USEC / self._speed)


class ScriptHandle:
    """A running script; ``await handle.wait()`` until it finishes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = asyncio.get_running_loop().create_future()

    async def wait(self) -> None:
        await asyncio.shield(self.done)


class Agenda:
    """Runs scripts in simulated-time order; paced by the clock or as fast as possible.

    ``after_step`` runs after every step (the model flushes device states there).
    ``before_step`` may return a delay in real seconds (the load generator's rate
    throttle). Every few steps the driver awaits ``drain`` so that, in fast mode,
    clients set the pace instead of the transport buffers growing without bound.
    """

    def __init__(
        self,
        clock: SimClock,
        *,
        after_step: Callable[[], None] | None = None,
        drain: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.clock = clock
        self._after_step = after_step
        self._drain = drain
        self._heap: list[tuple[int, int, Script, ScriptHandle]] = []
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.throttle: Callable[[], float] | None = None
        self.steps = 0

    @property
    def pending(self) -> int:
        return len(self._heap)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ami-agenda")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _due, _seq, script, handle in self._heap:
            script.close()
            if not handle.done.done():
                handle.done.cancel()
        self._heap.clear()

    def spawn(self, script: Script, *, delay: float = 0.0, name: str = "script") -> ScriptHandle:
        handle = ScriptHandle(name)
        self._push(self.clock.now() + round(delay * USEC), script, handle)
        return handle

    async def wait_idle(self) -> None:
        """Until no script is left (scripts spawned meanwhile are waited for too)."""
        await self._idle.wait()

    def _push(self, due: int, script: Script, handle: ScriptHandle) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), script, handle))
        self._idle.clear()
        self._wakeup.set()

    async def _run(self) -> None:
        since_yield = 0
        while True:
            if not self._heap:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            due = self._heap[0][0]
            wait = self.clock.real_seconds_until(due)
            if wait > 0:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), wait)
                continue
            if self.throttle is not None:
                hold = self.throttle()
                if hold > 0:
                    await asyncio.sleep(hold)
                    continue
            self.clock.advance_to(due)
            _due, _seq, script, handle = heapq.heappop(self._heap)
            self._step(script, handle)
            since_yield += 1
            if since_yield >= 32 or self.throttle is not None:
                since_yield = 0
                if self._drain is not None:
                    await self._drain()
                # drain() returns without suspending when no buffer is full: yield anyway,
                # or a busy agenda would starve the sessions and the actions.
                await asyncio.sleep(0)

    def _step(self, script: Script, handle: ScriptHandle) -> None:
        self.steps += 1
        try:
            delay = next(script)
        except StopIteration:
            if not handle.done.done():
                handle.done.set_result(None)
        except Exception as exc:
            # One broken script must not stop the simulated PBX.
            logger.exception("call script %s failed", handle.name)
            if not handle.done.done():
                handle.done.set_exception(exc)
        else:
            self._push(self.clock.now() + round(max(0.0, delay) * USEC), script, handle)
        if self._after_step is not None:
            self._after_step()
