"""Queue alerts: when a queue's live figure crosses its threshold, and when it is back.

A queue may set four thresholds (``CallQueue.alert_*``; empty: no alert of that kind).
Each is judged on the same figures the wallboard shows (``contactcenter.figures``,
filled by ``selectors.wallboard``), so an alert never disagrees with the board:

==================  =====================================  ===========================
kind                the figure                             bad while
==================  =====================================  ===========================
longest_wait        ``longest_wait_seconds`` (none: 0)     above the threshold
service_level       ``service_level_percent`` (none: ok)   below the threshold, once
                    today has the queue's minimum of calls
callers_waiting     ``callers_waiting``                    above the threshold
agents_available    ``agents_by_state["available"]``       below the threshold
==================  =====================================  ===========================

The service level is judged only once today has ``alert_service_level_min_calls``
calls counted in it (answered or abandoned): below that, as with no call at all, there
is nothing to say, so a quiet queue's first call abandoned past the threshold (0 %)
raises nothing, and an open alert recovers as if the figure were good.

An alert is raised the first time its figure is seen bad. It clears only once the
figure has been seen good continuously for ``clear_after`` seconds (the hysteresis):
one caller answered and the next arriving, or an agent ringing for a moment, must not
clear and raise the same alert again and again. Seen bad during that time, the
alert stays raised and the wait starts over.

Plain code, no database: ``services.queue_alerts`` applies the decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contactcenter.enums import AgentState
from contactcenter.figures import QueueFigures


class AlertKind(StrEnum):
    LONGEST_WAIT = "longest_wait"
    SERVICE_LEVEL = "service_level"
    CALLERS_WAITING = "callers_waiting"
    AGENTS_AVAILABLE = "agents_available"


# The queue's field holding each kind's threshold.
THRESHOLD_FIELDS: dict[AlertKind, str] = {
    AlertKind.LONGEST_WAIT: "alert_longest_wait_seconds",
    AlertKind.SERVICE_LEVEL: "alert_service_level_percent",
    AlertKind.CALLERS_WAITING: "alert_callers_waiting",
    AlertKind.AGENTS_AVAILABLE: "alert_agents_available",
}

# The queue's field holding the fewest calls (answered or abandoned today) on which the
# service level is judged.
SERVICE_LEVEL_MIN_CALLS_FIELD = "alert_service_level_min_calls"

# Kinds whose figure is bad when high; the others are bad when low.
HIGH_IS_BAD = frozenset({AlertKind.LONGEST_WAIT, AlertKind.CALLERS_WAITING})

LABELS: dict[AlertKind, str] = {
    AlertKind.LONGEST_WAIT: "Longest wait: {value:.0f} s (above {threshold} s)",
    AlertKind.SERVICE_LEVEL: "Service level: {value:.1f} % (below {threshold} %)",
    AlertKind.CALLERS_WAITING: "Callers waiting: {value:.0f} (above {threshold})",
    AlertKind.AGENTS_AVAILABLE: "Agents available: {value:.0f} (below {threshold})",
}


def describe(kind: str, value: float, threshold: int) -> str:
    """What the wallboard and the notification say of an alert."""
    return LABELS[AlertKind(kind)].format(value=value, threshold=threshold)


def figure_value(
    kind: AlertKind, figures: QueueFigures, *, service_level_min_calls: int = 0
) -> float | None:
    """The figure an alert of ``kind`` watches; None when there is nothing to judge
    (the service level on fewer calls answered or abandoned today than
    ``service_level_min_calls``, or on none)."""
    if kind is AlertKind.LONGEST_WAIT:
        return float(figures.longest_wait_seconds or 0)
    if kind is AlertKind.SERVICE_LEVEL:
        if figures.answered + figures.abandoned < service_level_min_calls:
            return None
        return figures.service_level_percent
    if kind is AlertKind.CALLERS_WAITING:
        return float(figures.callers_waiting)
    return float(figures.agents_by_state.get(AgentState.AVAILABLE.value, 0))


def is_bad(kind: AlertKind, value: float | None, threshold: int) -> bool:
    if value is None:
        return False
    return value > threshold if kind in HIGH_IS_BAD else value < threshold


@dataclass(frozen=True)
class OpenAlert:
    """A raised alert as the rules need it."""

    id: int
    kind: AlertKind
    recovered_at: datetime | None  # since when its figure has been seen good, if it has


@dataclass(frozen=True)
class Decision:
    """What to do with one queue's alert of one kind."""

    kind: AlertKind
    action: str  # "raise", "clear", "recovering" (good, not long enough), "relapse" (bad again)
    value: float | None
    threshold: int
    alert_id: int | None = None


def decide(
    *,
    figures: QueueFigures,
    thresholds: dict[AlertKind, int | None],
    open_alerts: dict[AlertKind, OpenAlert],
    now: datetime,
    clear_after: timedelta,
    service_level_min_calls: int = 0,
) -> list[Decision]:
    """The changes due for one queue. A kind whose threshold was removed clears at once.
    Nothing to do gives no decision. ``service_level_min_calls``: the queue's
    ``alert_service_level_min_calls`` (0: the service level is judged on any call)."""
    decisions: list[Decision] = []
    for kind in AlertKind:
        threshold = thresholds.get(kind)
        alert = open_alerts.get(kind)
        value = figure_value(kind, figures, service_level_min_calls=service_level_min_calls)
        if threshold is None:
            if alert is not None:
                decisions.append(Decision(kind, "clear", value, 0, alert.id))
            continue
        bad = is_bad(kind, value, threshold)
        if alert is None:
            if bad:
                decisions.append(Decision(kind, "raise", value, threshold))
        elif bad:
            if alert.recovered_at is not None:
                decisions.append(Decision(kind, "relapse", value, threshold, alert.id))
        elif alert.recovered_at is None:
            action = "clear" if clear_after <= timedelta(0) else "recovering"
            decisions.append(Decision(kind, action, value, threshold, alert.id))
        elif now - alert.recovered_at >= clear_after:
            decisions.append(Decision(kind, "clear", value, threshold, alert.id))
    return decisions


def next_check(
    *,
    figures: QueueFigures,
    thresholds: dict[AlertKind, int | None],
    open_alerts: dict[AlertKind, OpenAlert],
    now: datetime,
    clear_after: timedelta,
) -> datetime | None:
    """When the rules could decide something new for this queue with no other change:
    a recovering alert's clearing time, or the moment the longest wait will cross its
    threshold. None: only a change of the figures can."""
    times: list[datetime] = []
    for alert in open_alerts.values():
        if alert.recovered_at is not None:
            times.append(alert.recovered_at + clear_after)
    threshold = thresholds.get(AlertKind.LONGEST_WAIT)
    waited = figures.longest_wait_seconds
    if (
        threshold is not None
        and AlertKind.LONGEST_WAIT not in open_alerts
        and figures.callers_waiting
        and waited is not None
        and waited <= threshold
    ):
        times.append(now + timedelta(seconds=threshold - waited + 1))
    return min(times) if times else None
