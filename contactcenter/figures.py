"""The wallboard figures: the one list of their names and types.

The wallboard selector (contactcenter.selectors.wallboard) fills them; realtime's
WebSocket messages take their fields from here (realtime.messages: QueueStats,
QueueAgentView, BoardTotals), so a figure is added in one place. Each is defined in
docs/figures.md. Plain dataclasses, importable without Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CallFigures:
    """The call figures of one queue, or of several queues together."""

    callers_waiting: int
    callbacks_waiting: int  # Callbacks not yet answered nor given up (docs/callbacks.md)
    voicemails_waiting: int  # Voicemails no agent has claimed yet (docs/recordings.md)
    longest_wait_seconds: int | None
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within_service_level: int
    service_level_percent: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    abandon_rate_percent: float | None


@dataclass(frozen=True)
class QueueAgent:
    """A logged-in member of a queue, as the wallboard shows them."""

    agent_id: int
    name: str
    extension: str
    state: str
    reason: str
    seconds_in_state: int | None
    paused_in_queue: bool


@dataclass(frozen=True)
class QueueFigures(CallFigures):
    queue_id: int
    queue_name: str
    service_level_seconds: int
    short_abandon_seconds: int
    agents_by_state: Mapping[str, int]
    agents: tuple[QueueAgent, ...]


@dataclass(frozen=True)
class OrganizationTotals(CallFigures):
    """All selected queues together; each call judged by its own queue's thresholds."""

    agents_by_state: Mapping[str, int]
