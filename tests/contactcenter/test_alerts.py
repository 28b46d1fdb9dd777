"""The queue alert rules (contactcenter/alerts.py): when a figure is bad, and the
hysteresis that keeps an alert from clearing and raising again at every small change."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contactcenter.alerts import (
    AlertKind,
    Decision,
    OpenAlert,
    decide,
    describe,
    is_bad,
    next_check,
)
from contactcenter.enums import AgentState
from contactcenter.figures import QueueFigures

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
CLEAR_AFTER = timedelta(seconds=30)
NONE: dict[AlertKind, int | None] = {kind: None for kind in AlertKind}


def figures(**changes: object) -> QueueFigures:
    values: dict[str, Any] = {
        "queue_id": 1,
        "queue_name": "Support",
        "service_level_seconds": 20,
        "short_abandon_seconds": 5,
        "agents_by_state": {state.value: 0 for state in AgentState} | {"available": 3},
        "agents": (),
        "callers_waiting": 0,
        "longest_wait_seconds": None,
        "offered": 10,
        "answered": 9,
        "abandoned": 1,
        "short_abandoned": 0,
        "answered_within_service_level": 9,
        "service_level_percent": 90.0,
        "asa_seconds": 5.0,
        "aht_seconds": 60.0,
        "abandon_rate_percent": 10.0,
    }
    # The counts the rules do not read (callbacks, voicemails waiting ...): zero.
    values |= {f.name: 0 for f in fields(QueueFigures) if f.name not in values}
    values.update(changes)
    return QueueFigures(**values)


def thresholds(**values: int) -> dict[AlertKind, int | None]:
    return NONE | {AlertKind(kind): value for kind, value in values.items()}


def actions(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.kind.value, d.action) for d in decisions]


def test_each_kind_is_bad_on_its_side_of_the_threshold() -> None:
    assert is_bad(AlertKind.LONGEST_WAIT, 121, 120)
    assert not is_bad(AlertKind.LONGEST_WAIT, 120, 120)  # "above": at the threshold is fine
    assert is_bad(AlertKind.CALLERS_WAITING, 4, 3)
    assert not is_bad(AlertKind.CALLERS_WAITING, 3, 3)
    assert is_bad(AlertKind.SERVICE_LEVEL, 79.9, 80)
    assert not is_bad(AlertKind.SERVICE_LEVEL, 80, 80)
    assert not is_bad(AlertKind.SERVICE_LEVEL, None, 80)  # no call judged today: nothing to say
    assert is_bad(AlertKind.AGENTS_AVAILABLE, 1, 2)
    assert not is_bad(AlertKind.AGENTS_AVAILABLE, 2, 2)


def test_bad_figures_raise_one_alert_per_kind() -> None:
    bad = figures(
        callers_waiting=5,
        longest_wait_seconds=200,
        service_level_percent=50.0,
        agents_by_state={"available": 0},
    )
    limits = thresholds(longest_wait=120, service_level=80, callers_waiting=3, agents_available=1)
    decisions = decide(
        figures=bad, thresholds=limits, open_alerts={}, now=NOW, clear_after=CLEAR_AFTER
    )
    assert actions(decisions) == [
        ("longest_wait", "raise"),
        ("service_level", "raise"),
        ("callers_waiting", "raise"),
        ("agents_available", "raise"),
    ]
    assert {d.kind: (d.value, d.threshold) for d in decisions} == {
        AlertKind.LONGEST_WAIT: (200.0, 120),
        AlertKind.SERVICE_LEVEL: (50.0, 80),
        AlertKind.CALLERS_WAITING: (5.0, 3),
        AlertKind.AGENTS_AVAILABLE: (0.0, 1),
    }


def test_no_threshold_no_alert() -> None:
    bad = figures(callers_waiting=50, longest_wait_seconds=900, service_level_percent=0.0)
    assert (
        decide(figures=bad, thresholds=NONE, open_alerts={}, now=NOW, clear_after=CLEAR_AFTER) == []
    )


def test_an_alert_clears_only_after_the_figure_stayed_good_long_enough() -> None:
    limits = thresholds(callers_waiting=3)
    good = figures(callers_waiting=1)
    bad = figures(callers_waiting=4)
    raised = OpenAlert(id=7, kind=AlertKind.CALLERS_WAITING, recovered_at=None)

    # Still bad: nothing to do.
    opened = {AlertKind.CALLERS_WAITING: raised}
    assert (
        decide(figures=bad, thresholds=limits, open_alerts=opened, now=NOW, clear_after=CLEAR_AFTER)
        == []
    )
    # Good for the first time: recovering, not cleared.
    first = decide(
        figures=good, thresholds=limits, open_alerts=opened, now=NOW, clear_after=CLEAR_AFTER
    )
    assert actions(first) == [("callers_waiting", "recovering")]
    assert first[0].alert_id == 7

    recovering = {AlertKind.CALLERS_WAITING: replace(raised, recovered_at=NOW)}
    # Good, but not for long enough yet.
    soon = NOW + CLEAR_AFTER - timedelta(seconds=1)
    assert (
        decide(
            figures=good,
            thresholds=limits,
            open_alerts=recovering,
            now=soon,
            clear_after=CLEAR_AFTER,
        )
        == []
    )
    # Bad again meanwhile: it stays raised and the wait starts over (no flapping).
    relapse = decide(
        figures=bad, thresholds=limits, open_alerts=recovering, now=soon, clear_after=CLEAR_AFTER
    )
    assert actions(relapse) == [("callers_waiting", "relapse")]
    # Good for the whole time: cleared.
    later = NOW + CLEAR_AFTER
    cleared = decide(
        figures=good, thresholds=limits, open_alerts=recovering, now=later, clear_after=CLEAR_AFTER
    )
    assert actions(cleared) == [("callers_waiting", "clear")]
    assert cleared[0].value == 1.0


def test_without_a_wait_an_alert_clears_as_soon_as_the_figure_is_good() -> None:
    opened = {AlertKind.AGENTS_AVAILABLE: OpenAlert(3, AlertKind.AGENTS_AVAILABLE, None)}
    decisions = decide(
        figures=figures(),
        thresholds=thresholds(agents_available=2),
        open_alerts=opened,
        now=NOW,
        clear_after=timedelta(0),
    )
    assert actions(decisions) == [("agents_available", "clear")]


def test_a_removed_threshold_clears_its_alert_at_once() -> None:
    opened = {AlertKind.LONGEST_WAIT: OpenAlert(4, AlertKind.LONGEST_WAIT, None)}
    bad = figures(callers_waiting=1, longest_wait_seconds=999)
    decisions = decide(
        figures=bad, thresholds=NONE, open_alerts=opened, now=NOW, clear_after=CLEAR_AFTER
    )
    assert actions(decisions) == [("longest_wait", "clear")]


def test_next_check_is_when_a_wait_crosses_or_a_recovery_is_long_enough() -> None:
    waiting = figures(callers_waiting=2, longest_wait_seconds=100)
    limits = thresholds(longest_wait=120)
    # The oldest caller crosses 120 s in 21 s (above, not at).
    assert next_check(
        figures=waiting, thresholds=limits, open_alerts={}, now=NOW, clear_after=CLEAR_AFTER
    ) == NOW + timedelta(seconds=21)
    # Nobody waiting: only a change can raise it.
    assert (
        next_check(
            figures=figures(), thresholds=limits, open_alerts={}, now=NOW, clear_after=CLEAR_AFTER
        )
        is None
    )
    recovering = {AlertKind.SERVICE_LEVEL: OpenAlert(1, AlertKind.SERVICE_LEVEL, NOW)}
    assert (
        next_check(
            figures=figures(),
            thresholds=thresholds(service_level=80),
            open_alerts=recovering,
            now=NOW,
            clear_after=CLEAR_AFTER,
        )
        == NOW + CLEAR_AFTER
    )


def test_the_service_level_is_judged_only_from_the_queues_minimum_of_calls() -> None:
    limits = thresholds(service_level=80)
    # One call abandoned past the threshold (short abandons are not counted): 0 %.
    first_miss = figures(offered=1, answered=0, abandoned=1, service_level_percent=0.0)
    quiet = figures(offered=9, answered=5, abandoned=4, service_level_percent=10.0)
    counted = replace(quiet, offered=10, answered=6, short_abandoned=3)  # 10 calls judged
    assert counted.answered + counted.abandoned == 10

    def judged(f: QueueFigures, min_calls: int, opened: dict | None = None) -> list:
        return actions(
            decide(
                figures=f,
                thresholds=limits,
                open_alerts=opened or {},
                now=NOW,
                clear_after=CLEAR_AFTER,
                service_level_min_calls=min_calls,
            )
        )

    assert judged(first_miss, 10) == []
    assert judged(quiet, 10) == []  # nine calls: still nothing to say
    assert judged(counted, 10) == [("service_level", "raise")]  # at the minimum
    assert judged(counted, 11) == []
    assert judged(first_miss, 1) == [("service_level", "raise")]
    assert judged(first_miss, 0) == [("service_level", "raise")]  # 0: judged on any call
    # An open alert of a queue now below its minimum (the minimum was raised since)
    # recovers as with a good figure, then clears by the usual rule.
    opened = {AlertKind.SERVICE_LEVEL: OpenAlert(5, AlertKind.SERVICE_LEVEL, None)}
    assert judged(quiet, 10, opened) == [("service_level", "recovering")]
    # Only the service level waits for calls: the other kinds are judged as before.
    waiting = replace(first_miss, callers_waiting=4)
    decisions = decide(
        figures=waiting,
        thresholds=thresholds(service_level=80, callers_waiting=3),
        open_alerts={},
        now=NOW,
        clear_after=CLEAR_AFTER,
        service_level_min_calls=10,
    )
    assert actions(decisions) == [("callers_waiting", "raise")]


def test_the_text_says_the_figure_and_the_threshold() -> None:
    assert describe("longest_wait", 185.4, 120) == "Longest wait: 185 s (above 120 s)"
    assert describe("service_level", 72.25, 80) == "Service level: 72.2 % (below 80 %)"
    assert describe("callers_waiting", 6, 5) == "Callers waiting: 6 (above 5)"
    assert describe("agents_available", 0, 1) == "Agents available: 0 (below 1)"
