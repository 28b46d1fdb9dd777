"""The order in which a queue's free agents are offered a caller, by the queue's strategy.

Pure: the facts about each candidate are read beforehand (``decide``). Names and
meanings are app_queue's (queues.conf ``strategy``), with its rules for penalties: the
agents of the lowest penalty are offered first, the next level only when none of them
is free. Before both comes "has this agent already missed this caller": the caller goes
round every free agent before one who let them ring is offered them again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from contactcenter.enums import QueueStrategy

_NEVER = datetime.min.replace(tzinfo=UTC).isoformat()
# Not for secrets: a fair draw among agents (the random strategies).
_draw = random.SystemRandom().random


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    agent_id: int
    penalty: int
    missed_this_call: int  # offers of this caller the agent did not answer
    calls_taken: int  # answered offers of the queue (fewestcalls)
    last_call_ended: datetime | None  # end of their last answered offer (leastrecent)


def _strategy_key(strategy: str, c: Candidate, last_offered: int | None) -> tuple[object, ...]:
    if strategy == QueueStrategy.FEWESTCALLS:
        return (c.calls_taken, c.agent_id)
    if strategy == QueueStrategy.LEASTRECENT:
        # Never had a call: idle longest.
        ended = c.last_call_ended.isoformat() if c.last_call_ended else _NEVER
        return (ended, c.agent_id)
    if strategy in (QueueStrategy.RRMEMORY, QueueStrategy.RINGALL):
        # The agent after the one offered last, wrapping round (by agent id, which is
        # the order the members were added in).
        after = last_offered is not None and c.agent_id <= last_offered
        return (after, c.agent_id)
    if strategy in (QueueStrategy.RANDOM, QueueStrategy.WRANDOM):
        return (_draw(),)
    return (c.agent_id,)  # linear


def ordered(
    strategy: str, candidates: Sequence[Candidate], *, last_offered: int | None
) -> list[Candidate]:
    """``candidates`` best first. ``last_offered``: the agent the queue offered a caller
    to last (rrmemory's memory)."""
    if strategy == QueueStrategy.WRANDOM:
        # app_queue's wrandom: the penalty weighs the draw instead of setting tiers.
        def key(c: Candidate) -> tuple[object, ...]:
            return (c.missed_this_call, _draw() * (c.penalty + 1))

        return sorted(candidates, key=key)
    return sorted(
        candidates,
        key=lambda c: (
            c.missed_this_call,
            c.penalty,
            *_strategy_key(strategy, c, last_offered),
        ),
    )
