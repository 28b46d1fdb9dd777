"""Report figures recomputed here, call by call, from the raw rows, and the floor they are
recomputed on: shared by the selector's tests and the API's.

``expected_queues`` / ``expected_agents`` follow docs/figures.md ("Reports") literally:
each call is put on the local calendar date of its own timestamp, each agent-state
interval is cut against each local day's bounds. They share nothing with the selector
but the rows.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contactcenter.enums import AgentState, CallDirection, CallStatus
from contactcenter.models import (
    Agent,
    AgentStateLog,
    Call,
    Callback,
    CallbackStatus,
    CallQueue,
    Organization,
)
from tests.contactcenter.wallboard_figures import ANSWERED, OUTCOMES, queue_call, queue_figures
from tests.factories import make_agent, make_queue

LA, KOLKATA = "America/Los_Angeles", "Asia/Kolkata"
# 2025-11-02 is 25 hours long in Los Angeles (DST ends); Kolkata has no DST.
FIRST, LAST = date(2025, 11, 1), date(2025, 11, 3)


def local(tz: str, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def days(first: date = FIRST, last: date = LAST) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def expected_queues(org: Organization, first: date, last: date) -> dict[str, Any]:
    tz = ZoneInfo(org.time_zone)
    queues = {q.pk: q for q in CallQueue.objects.filter(organization=org)}
    pairs = [
        (c, queues[c.queue_id])
        for c in Call.objects.filter(organization=org, queue__isnull=False)
        if c.queued_at is not None
        and first <= c.queued_at.astimezone(tz).date() <= last
        and c.direction != CallDirection.INTERNAL  # no queue's traffic (docs/figures.md)
    ]
    callbacks_of = callback_figures(org, first, last)
    rows = {}
    for queue_id in queues:
        mine = [(c, q) for c, q in pairs if q.pk == queue_id]
        asked = {d: kept for (q, d), kept in callbacks_of.items() if q == queue_id}
        per_day = {
            d.isoformat(): _with_callbacks(
                queue_figures(
                    [
                        (c, q)
                        for c, q in mine
                        if c.queued_at and c.queued_at.astimezone(tz).date() == d
                    ]
                ),
                asked.get(d.isoformat(), NO_CALLBACKS),
            )
            for d in days(first, last)
        }
        totals = _with_callbacks(queue_figures(mine), *asked.values())
        rows[queue_id] = {"days": per_day, "totals": totals}
    return {
        "queues": rows,
        "totals": _with_callbacks(queue_figures(pairs), *callbacks_of.values()),
    }


def _state_seconds(org: Organization, agent: Agent, day: date, now: datetime) -> dict[str, int]:
    tz = ZoneInfo(org.time_zone)
    day_start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    spent: dict[str, timedelta] = {}
    for log in AgentStateLog.objects.filter(agent=agent):
        end = log.ended_at or now
        overlap = min(end, day_end, now) - max(log.started_at, day_start)
        if overlap > timedelta(0):
            spent[log.state] = spent.get(log.state, timedelta(0)) + overlap
    counted = {state: int(total.total_seconds()) for state, total in spent.items()}
    return {s.value: counted.get(s.value, 0) for s in AgentState}


def agent_figures(calls: list[Call], states: list[dict[str, int]]) -> dict[str, Any]:
    handled = [c for c in calls if c.status == CallStatus.COMPLETED and c.talk_seconds is not None]
    talk = sum(c.talk_seconds or 0 for c in handled)
    return {
        "answered": len(calls),
        "talk_count": len(handled),
        "talk_seconds": talk,
        "hold_seconds": sum(c.hold_seconds for c in handled),
        "aht_seconds": round(talk / len(handled), 1) if handled else None,
        "state_seconds": {s.value: sum(x[s.value] for x in states) for s in AgentState},
    }


def expected_agents(org: Organization, first: date, last: date, now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(org.time_zone)

    def day_of(call: Call) -> date:
        return (call.answered_at or call.started_at).astimezone(tz).date()

    rows = {}
    everyone_calls: list[Call] = []
    everyone_states: list[dict[str, int]] = []
    for agent in Agent.objects.filter(organization=org):
        calls = [
            c
            for c in Call.objects.filter(organization=org, agent=agent)
            if c.status in ANSWERED and first <= day_of(c) <= last
        ]
        states = {d: _state_seconds(org, agent, d, now) for d in days(first, last)}
        per_day = {
            d.isoformat(): agent_figures([c for c in calls if day_of(c) == d], [states[d]])
            for d in days(first, last)
        }
        rows[agent.pk] = {
            "days": per_day,
            "totals": agent_figures(calls, list(states.values())),
        }
        everyone_calls += calls
        everyone_states += states.values()
    return {"agents": rows, "totals": agent_figures(everyone_calls, everyone_states)}


def busy_floor(org: Organization, seed: int) -> tuple[list[CallQueue], list[Agent]]:
    """Two queues with different thresholds, three agents, calls over the range and just
    outside it, at midnight to the second, and state intervals across midnight."""
    rng = random.Random(seed)
    tz = org.time_zone
    queues = [make_queue(org, "support"), make_queue(org, "billing")]
    queues[1].service_level_seconds, queues[1].short_abandon_seconds = 30, 10
    queues[1].save()
    agents = [make_agent(org) for _ in range(3)]
    before, after = FIRST - timedelta(days=1), LAST + timedelta(days=1)
    times = [
        local(tz, FIRST, 0, 0, 0),
        local(tz, FIRST, 0, 0, 0) - timedelta(microseconds=1),
        local(tz, before, 23, 58),
        local(tz, LAST, 23, 58),  # offered on LAST, answered and ended after midnight
        local(tz, LAST, 23, 59, 59),
        local(tz, after, 0, 0, 0),
    ]
    for day in [before, *days(), after]:
        start = local(tz, day, 0)
        length = local(tz, day + timedelta(days=1), 0) - start
        times += [start + rng.random() * length for _ in range(25)]
    for at in times:
        outcome = rng.choice(OUTCOMES)
        call = queue_call(
            rng.choice(queues),
            queued_at=at,
            outcome=outcome,
            wait=rng.choice([0, 4, 5, 9, 10, 19, 20, 21, 30, 31, 150]),
            talk=rng.randint(0, 900),
        )
        if call.status in ANSWERED:
            Call.objects.filter(pk=call.pk).update(agent=rng.choice(agents))
    # The call queued at 23:58 on LAST: answered 2.5 minutes later, on the next day.
    late = queue_call(
        queues[0], queued_at=local(tz, LAST, 23, 58), outcome="completed", wait=150, talk=600
    )
    Call.objects.filter(pk=late.pk).update(agent=agents[0])
    # Agent 0: available 22:00 on FIRST to 01:30 the next day, paused to 01:45, then on
    # a call until 02:00; agent 1: a state that began before the range and is still open.
    log(
        agents[0],
        AgentState.AVAILABLE,
        local(tz, FIRST, 22),
        local(tz, FIRST + timedelta(1), 1, 30),
    )
    log(
        agents[0],
        AgentState.PAUSED,
        local(tz, FIRST + timedelta(1), 1, 30),
        local(tz, FIRST + timedelta(1), 1, 45),
    )
    log(
        agents[0],
        AgentState.ON_CALL,
        local(tz, FIRST + timedelta(1), 1, 45),
        local(tz, FIRST + timedelta(1), 2),
    )
    log(agents[1], AgentState.WRAP_UP, local(tz, before, 20), None)
    log(agents[2], AgentState.AVAILABLE, local(tz, LAST, 23, 30), local(tz, after, 0, 15))
    callbacks(rng, queues, [local(tz, FIRST, 0, 0, 0), local(tz, LAST, 23, 59, 59), *times])
    return queues, agents


CALLBACK_STATUSES = [s.value for s in CallbackStatus]


def callbacks(rng: random.Random, queues: list[CallQueue], times: list[datetime]) -> None:
    """Callbacks asked for at some of ``times`` (half by waiting callers, whose calls
    ended as CALLBACK calls, half scheduled), in every status."""
    for at in rng.sample(times, 40):
        queue = rng.choice(queues)
        call = None
        if rng.random() < 0.5:
            call = queue_call(queue, queued_at=at - timedelta(seconds=40), outcome="abandoned")
            Call.objects.filter(pk=call.pk).update(status=CallStatus.CALLBACK, abandoned_at=None)
        kept = Callback.objects.create(
            organization_id=queue.organization_id,
            queue=queue,
            number="+15557650001",
            call=call,
            place_at=at,
            next_attempt_at=at,
            status=rng.choice(CALLBACK_STATUSES),
        )
        Callback.objects.filter(pk=kept.pk).update(created_at=at)


def callback_figures(org: Organization, first: date, last: date) -> dict[tuple[int, str], Any]:
    """Per (queue, local day asked for): requested, answered, given up (docs/figures.md)."""
    tz = ZoneInfo(org.time_zone)
    out: dict[tuple[int, str], dict[str, int]] = {}
    for callback in Callback.objects.filter(organization=org):
        day = callback.created_at.astimezone(tz).date()
        if not first <= day <= last:
            continue
        counts = out.setdefault((callback.queue_id, day.isoformat()), dict(NO_CALLBACKS))
        counts["callbacks_requested"] += 1
        counts["callbacks_answered"] += callback.status == CallbackStatus.ANSWERED
        counts["callbacks_given_up"] += callback.status == CallbackStatus.GIVEN_UP
    return out


NO_CALLBACKS = {"callbacks_requested": 0, "callbacks_answered": 0, "callbacks_given_up": 0}


def _with_callbacks(figures: dict[str, Any], *counts: dict[str, int]) -> dict[str, Any]:
    total = {name: sum(c[name] for c in counts) for name in NO_CALLBACKS}
    return {**figures, **total}


def log(agent: Agent, state: str, start: datetime, end: datetime | None) -> None:
    AgentStateLog.objects.create(
        organization_id=agent.organization_id,
        agent=agent,
        state=state,
        started_at=start,
        ended_at=end,
    )
