"""The wallboard's figures recomputed from the call rows, and the floors they are recomputed on:
shared by the selector's tests and the API's.

``expected_board`` follows docs/figures.md literally, one call at a time, and decides
"today" by each call's local calendar date (not by the selector's UTC window), so the
two computations share nothing but the rows.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contactcenter.enums import AgentState, CallDirection, CallStatus
from contactcenter.models import (
    Agent,
    Call,
    Callback,
    CallQueue,
    Organization,
    QueueMembership,
    Voicemail,
    VoicemailStatus,
)
from contactcenter.models.callbacks import CALLBACK_OPEN
from contactcenter.selectors.figures_common import local_day
from contactcenter.selectors.wallboard import figures_by_queue, wallboard
from contactcenter.services.telephony.derive import derive_status, finish_durations
from tests.factories import make_agent, make_call, make_queue

ANSWERED = {CallStatus.IN_PROGRESS, CallStatus.ON_HOLD, CallStatus.COMPLETED}
OUTCOMES = [
    "waiting",
    "talking",
    "on_hold",
    "completed",
    "completed_wait_unknown",
    "answered_unknown",
    "abandoned",
    "abandoned_no_verdict",
    "abandoned_not_hung_up",
    "no_answer",
    "waiting_moved",  # moved to another queue (``moved_to``), waiting there
    "callback_kept",  # pressed 1 while waiting: a callback keeps their place; not hung up yet
]


def queue_call(
    queue: CallQueue,
    *,
    queued_at: datetime,
    outcome: str,
    wait: int = 0,
    talk: int = 0,
    moved_to: CallQueue | None = None,
) -> Call:
    """A call record as the telephony services leave it, status derived from its facts."""
    call = make_call(queue.organization, queue=queue, started_at=queued_at - timedelta(seconds=3))
    call.queued_at = queued_at
    if outcome == "waiting_moved":
        target = moved_to or queue
        moved_at = queued_at + timedelta(seconds=wait)
        call.flags = {"waiting_in": target.pk, "waiting_in_at": moved_at.timestamp()}
    elif outcome == "callback_kept":
        call.flags = {"callback_requested": True}
    waited = queued_at + timedelta(seconds=wait)
    if outcome in {"talking", "on_hold", "completed", "completed_wait_unknown"}:
        call.answered_at = waited
        call.wait_seconds = None if outcome == "completed_wait_unknown" else wait
        if outcome == "on_hold":
            call.held_since = waited + timedelta(seconds=1)
        if outcome.startswith("completed"):
            call.ended_at = waited + timedelta(seconds=talk)
            call.hold_seconds = talk // 3
    elif outcome == "answered_unknown":  # answered while the bridge was away
        call.flags = {"answered_at_unknown": True}
        call.ended_at = waited + timedelta(seconds=talk)
    elif outcome in {"abandoned", "abandoned_not_hung_up"}:
        call.abandoned_at = waited
        call.wait_seconds = wait
        if outcome == "abandoned":
            call.ended_at = waited
    elif outcome in {"abandoned_no_verdict", "no_answer"}:
        call.ended_at = waited
        call.end_outcome = CallStatus.NO_ANSWER if outcome == "no_answer" else ""
    finish_durations(call)
    call.status = derive_status(call)
    call.save()
    return call


def set_state(agent: Agent, state: str, since: datetime | None, reason: str = "") -> None:
    Agent.objects.filter(pk=agent.pk).update(
        state=state, state_changed_at=since, state_reason=reason
    )


def join(queue: CallQueue, agent: Agent, *, logged_in: bool = True, paused: bool = False) -> None:
    QueueMembership.objects.create(
        organization=queue.organization,
        queue=queue,
        agent=agent,
        is_logged_in=logged_in,
        paused=paused,
    )


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _avg(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _seconds(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


def queue_figures(offered: list[tuple[Call, CallQueue]]) -> dict[str, Any]:
    """The figures of the calls offered to queues (docs/figures.md), each call with its
    queue: the wallboard's for today, the reports' for a day."""
    answered = [(c, q) for c, q in offered if c.status in ANSWERED]
    gave_up = [(c, q) for c, q in offered if c.status == CallStatus.ABANDONED]
    short = [
        c
        for c, q in gave_up
        if c.wait_seconds is not None and c.wait_seconds < q.short_abandon_seconds
    ]
    abandoned = [c for c, _ in gave_up if c not in short]
    within = [
        c
        for c, q in answered
        if c.wait_seconds is not None and c.wait_seconds <= q.service_level_seconds
    ]
    talks = [
        c.talk_seconds
        for c, _ in offered
        if c.status == CallStatus.COMPLETED and c.talk_seconds is not None
    ]
    return {
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "answered_within_service_level": len(within),
        "service_level_percent": _pct(len(within), len(answered) + len(abandoned)),
        "asa_seconds": _avg([c.wait_seconds for c, _ in answered if c.wait_seconds is not None]),
        "aht_seconds": _avg(talks),
        "abandon_rate_percent": _pct(len(abandoned), len(answered) + len(abandoned)),
    }


def waits_in(call: Call) -> int | None:
    """The queue a caller waits in now: the one they were moved to, else the one joined."""
    moved: int | None = call.flags.get("waiting_in")
    return call.queue_id if moved is None else moved


def _call_figures(
    pairs: list[tuple[Call, CallQueue]], now: datetime, tz: ZoneInfo, here: list[Call]
) -> dict:
    """``pairs``: the calls that joined the queues (offered, answered ...); ``here``: the
    calls whose caller waits in them now (waiting, longest wait)."""
    today = now.astimezone(tz).date()
    # Internal calls are no queue's traffic (docs/figures.md).
    pairs = [(c, q) for c, q in pairs if c.direction != CallDirection.INTERNAL]
    offered = [
        (c, q) for c, q in pairs if c.queued_at and c.queued_at.astimezone(tz).date() == today
    ]
    # A caller who pressed 1 left the line for a callback, though their call goes on.
    waiting = [
        c
        for c in here
        if c.direction != CallDirection.INTERNAL
        and c.status in {CallStatus.QUEUED, CallStatus.RINGING}
        and c.queued_at is not None
        and c.abandoned_at is None
        and not c.flags.get("callback_requested")
    ]
    oldest = min((c.queued_at for c in waiting if c.queued_at), default=None)
    return {
        "callers_waiting": len(waiting),
        "longest_wait_seconds": _seconds(oldest, now),
        **queue_figures(offered),
    }


def _by_state(agents: list[Agent]) -> dict[str, int]:
    return {s.value: sum(1 for a in agents if a.state == s.value) for s in AgentState}


def expected_board(
    org: Organization, now: datetime, queue_ids: list[int] | None = None
) -> dict[str, Any]:
    """Every figure of the wallboard, recomputed call by call from the stored rows."""
    tz = ZoneInfo(org.time_zone)
    queues = sorted(
        (
            q
            for q in CallQueue.objects.filter(organization=org, is_active=True)
            if queue_ids is None or q.pk in queue_ids
        ),
        key=lambda q: (q.name, q.pk),
    )
    calls = list(Call.objects.filter(organization=org))
    rows, all_pairs, all_here, all_agents = [], [], [], {}
    all_callbacks = all_voicemails = 0
    for q in queues:
        pairs = [(c, q) for c in calls if c.queue_id == q.pk]
        all_pairs += pairs
        here = [c for c in calls if waits_in(c) == q.pk]
        all_here += here
        members = sorted(
            QueueMembership.objects.filter(
                queue=q, is_logged_in=True, agent__organization=org
            ).select_related("agent"),
            key=lambda m: (m.agent.extension, m.agent_id),
        )
        all_agents.update({m.agent_id: m.agent for m in members})
        agents = [
            {
                "agent_id": m.agent_id,
                "name": m.agent.name,
                "extension": m.agent.extension,
                "state": m.agent.state,
                "reason": m.agent.state_reason,
                "seconds_in_state": _seconds(m.agent.state_changed_at, now),
                "paused_in_queue": m.paused,
            }
            for m in members
        ]
        callbacks = Callback.objects.filter(queue=q, status__in=CALLBACK_OPEN).count()
        all_callbacks += callbacks
        voicemails = Voicemail.objects.filter(queue=q, status=VoicemailStatus.NEW).count()
        all_voicemails += voicemails
        rows.append(
            {
                **_call_figures(pairs, now, tz, here),
                "callbacks_waiting": callbacks,
                "voicemails_waiting": voicemails,
                "queue_id": q.pk,
                "queue_name": q.name,
                "service_level_seconds": q.service_level_seconds,
                "short_abandon_seconds": q.short_abandon_seconds,
                "agents_by_state": _by_state([m.agent for m in members]),
                "agents": agents,
            }
        )
    totals = {
        **_call_figures(all_pairs, now, tz, all_here),
        "callbacks_waiting": all_callbacks,
        "voicemails_waiting": all_voicemails,
        "agents_by_state": _by_state(list(all_agents.values())),
    }
    return {"queues": rows, "totals": totals}


def plain(value: Any) -> Any:
    """Dataclasses to the JSON shape of the API (tuples become lists)."""
    return json.loads(json.dumps(asdict(value), default=str))


def assert_board(org: Organization, now: datetime, queue_ids: list[int] | None = None) -> None:
    board = wallboard(organization=org, now=now, queue_ids=queue_ids)
    expected = expected_board(org, now, queue_ids)
    assert [plain(q) for q in board.queues] == expected["queues"]
    assert plain(board.totals) == expected["totals"]
    assert board.queues == figures_by_queue(organization=org, now=now, queue_ids=queue_ids)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)  # type: ignore[misc]


NY = "America/New_York"


def random_floor(org: Organization, now: datetime, rng: random.Random) -> None:
    queues = [make_queue(org, "support"), make_queue(org, "billing"), make_queue(org, "retired")]
    queues[1].service_level_seconds, queues[1].short_abandon_seconds = 30, 10
    queues[2].is_active = False
    for q in queues[1:]:
        q.save()
    day = local_day(time_zone=org.time_zone, now=now)
    # Boundaries to the microsecond, then calls spread over yesterday, today, tomorrow.
    times = [day.start, day.start - timedelta(microseconds=1), day.end - timedelta(seconds=1)]
    times += [day.end, now - timedelta(seconds=1)]
    times += [day.start + rng.random() * (day.end - day.start) for _ in range(90)]
    times += [now - timedelta(hours=rng.uniform(12, 48)) for _ in range(30)]
    for at in times:
        outcome = rng.choice(OUTCOMES)
        queue_call(
            rng.choice(queues),
            queued_at=at,
            outcome=outcome,
            wait=rng.choice([0, 1, 4, 5, 9, 10, 19, 20, 21, 29, 30, 31, 120]),
            talk=rng.randint(0, 900),
            moved_to=rng.choice(queues),
        )
    make_call(org, queue=None, started_at=now)  # not a queue call: on no row
    for n in range(8):
        agent = make_agent(org)
        since = None if n == 0 else now - timedelta(seconds=rng.randint(0, 5000))
        set_state(agent, rng.choice(list(AgentState)), since, rng.choice(["", "Lunch"]))
        for q in rng.sample(queues, rng.randint(0, 3)):
            join(q, agent, logged_in=rng.random() < 0.8, paused=rng.random() < 0.3)
