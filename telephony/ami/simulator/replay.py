"""Replaying a transcript into one client session.

The stream is held at the first message carrying a placeholder the client has not
bound yet (it has not sent that action), then the client's real ActionID replaces
the placeholder everywhere. Responses to the client's actions therefore come out
in order, exactly where the recording has them.

Replaying twice on one connection: a run numbers its placeholders after the actions
the session has already seen (``rebase``), so the second ``{{Originate#1}}`` binds
to the client's next Originate, and the Login preamble is skipped because the
client is already logged in.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from telephony.ami.frames import AmiMessage, serialize
from telephony.ami.simulator.clock import USEC
from telephony.ami.simulator.transcript import (
    PLACEHOLDER,
    ActionKey,
    Transcript,
    parse_timestamp,
)

logger = logging.getLogger(__name__)

# Let the client read between bursts instead of queueing a whole file in the transport.
_DRAIN_EVERY = 64


class ReplayTarget(Protocol):
    """What a replay needs from the session it plays into."""

    authenticated: asyncio.Event

    def action_count(self, name: str) -> int: ...

    def is_bound(self, key: ActionKey) -> bool: ...

    async def bound_action_id(self, key: ActionKey) -> str | None: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ReplaySpec:
    """How to play one transcript.

    ``speed=None`` plays as fast as possible; otherwise Timestamp gaps are divided by
    ``speed`` (2.0 = twice as fast), each wait capped at ``max_delay`` seconds.
    ``start_at`` skips the first messages of the file; ``drop_after=K`` closes the
    connection right after the file's K-th message (1-based, the banner not counted).
    """

    transcript: Transcript
    speed: float | None = None
    max_delay: float | None = None
    start_at: int = 0
    drop_after: int | None = None
    rebase: bool = True

    @classmethod
    def of(cls, source: Transcript | str | Path, **options: object) -> ReplaySpec:
        transcript = source if isinstance(source, Transcript) else Transcript.load(source)
        return cls(transcript, **options)  # type: ignore[arg-type]


@dataclass
class ReplayReport:
    transcript: str
    messages_sent: int = 0
    events_sent: Counter[str] = field(default_factory=Counter)
    completed: bool = False
    dropped: bool = False

    @property
    def event_total(self) -> int:
        return sum(self.events_sent.values())


class ReplayRun:
    """One transcript attached to one session; build it when it becomes the session's."""

    def __init__(self, spec: ReplaySpec, target: ReplayTarget) -> None:
        self.spec = spec
        self.target = target
        transcript = spec.transcript
        start = spec.start_at
        if target.authenticated.is_set():
            # The client logged in before this run: its Login answer is history.
            start = max(start, transcript.preamble_length())
        self.start = start
        end = len(transcript)
        self.stop = end if spec.drop_after is None else min(spec.drop_after, end)
        names = {name for keys in transcript.placeholders for name, _ in keys}
        self.offsets = {n: target.action_count(n) if spec.rebase else 0 for n in names}
        self.claims: set[ActionKey] = {
            self._absolute(key)
            for keys in transcript.placeholders[self.start : self.stop]
            for key in keys
        }
        self.report = ReplayReport(transcript=transcript.name)

    def claims_action(self, key: ActionKey) -> bool:
        """True if this transcript answers the client's action ``key`` itself."""
        return key in self.claims

    def _absolute(self, key: ActionKey) -> ActionKey:
        name, number = key
        return name, number + self.offsets.get(name, 0)

    async def play(self) -> ReplayReport:
        spec, target, report = self.spec, self.target, self.report
        transcript = spec.transcript
        await target.authenticated.wait()
        loop = asyncio.get_running_loop()
        anchor: tuple[float, int] | None = None
        for index in range(self.start, self.stop):
            message = transcript.messages[index]
            keys = [self._absolute(key) for key in transcript.placeholders[index]]
            bound: dict[ActionKey, str | None] = {}
            for key in keys:
                if not target.is_bound(key):
                    # Waiting on the client: the recorded gap before it is meaningless now.
                    await target.drain()
                    anchor = None
                bound[key] = await target.bound_action_id(key)
            stamp = parse_timestamp(message.get("Timestamp"))
            if spec.speed is not None and stamp is not None:
                if anchor is not None:
                    delay = anchor[0] + (stamp - anchor[1]) / USEC / spec.speed - loop.time()
                    if spec.max_delay is not None:
                        delay = min(delay, spec.max_delay)
                    if delay > 0:
                        await target.drain()
                        await asyncio.sleep(delay)
                anchor = (loop.time(), stamp)
            if keys:
                message = self._bind(message, bound)
            target.write(serialize(message))
            report.messages_sent += 1
            if message.event is not None:
                report.events_sent[message.event] += 1
            if report.messages_sent % _DRAIN_EVERY == 0:
                await target.drain()
        await target.drain()
        if spec.drop_after is not None and spec.drop_after <= len(transcript):
            logger.info("replay %s: dropping the connection as asked", transcript.name)
            report.dropped = True
            target.close()
        else:
            report.completed = True
        return report

    def _bind(self, message: AmiMessage, bound: dict[ActionKey, str | None]) -> AmiMessage:
        def substitute(match: re.Match[str]) -> str:
            key = self._absolute((match.group(1).lower(), int(match.group(2))))
            return bound.get(key) or ""

        pairs: list[tuple[str, str]] = []
        for key, value in message.fields:
            if "{{" in value:
                whole = PLACEHOLDER.fullmatch(value)
                replaced = PLACEHOLDER.sub(substitute, value)
                if whole is not None and not replaced:
                    # The client's action had no ActionID: Asterisk prints no line then.
                    continue
                value = replaced
            pairs.append((key, value))
        return AmiMessage(tuple(pairs))
