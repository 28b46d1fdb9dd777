"""Wallboard figures per queue, read from the stored call records.

Every number is defined in docs/figures.md; the tests recompute each one from the
Call rows in plain Python and require equality. The call figures come from two
aggregate queries (one grouped by queue, one for the organization), the agents from
one query over the queue memberships; nothing loops over the day's calls in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, IntegerField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from contactcenter.enums import AgentState, CallStatus
from contactcenter.figures import OrganizationTotals, QueueAgent, QueueFigures
from contactcenter.models import (
    Call,
    Callback,
    CallQueue,
    Organization,
    QueueMembership,
    Voicemail,
    VoicemailStatus,
)
from contactcenter.models.callbacks import CALLBACK_OPEN
from contactcenter.models.calls import CALLBACK_KEPT_FLAG, WAITING_IN_FLAG
from contactcenter.selectors.figures_common import (
    QUEUE_TRAFFIC,
    DayWindow,
    elapsed_seconds,
    local_day,
    mean,
    percent,
)

# The statuses a call can only have once someone answered it (see derive_status):
# answered_at is set, or the answer happened while the bridge was away.
ANSWERED_STATUSES = (CallStatus.IN_PROGRESS, CallStatus.ON_HOLD, CallStatus.COMPLETED)
# derive_status keeps a queued call QUEUED while agents ring; RINGING is listed too so
# that "waiting" rests on the queue time (queued_at set), not on which live status it is.
WAITING_STATUSES = (CallStatus.QUEUED, CallStatus.RINGING)
# Still in the queue: joined it, and neither answered, abandoned nor ended, nor left it
# with a callback kept (the caller who pressed 1 is out of the line, though their call
# lasts until the goodbye). Not limited to today: a caller queued before midnight who
# still waits is waiting now.
IN_LINE = (
    Q(status__in=WAITING_STATUSES, queued_at__isnull=False, abandoned_at__isnull=True)
    & ~Q(flags__has_key=CALLBACK_KEPT_FLAG)
    & QUEUE_TRAFFIC
)
# Waiting in the queue they joined (the call's queue): not moved to another one. A
# caller moved elsewhere is counted where they wait (``_queues``: ``moved_in``).
WAITING = IN_LINE & ~Q(flags__has_key=WAITING_IN_FLAG)


def _offered_in(day: DayWindow) -> Q:
    return Q(queued_at__gte=day.start, queued_at__lt=day.end) & QUEUE_TRAFFIC


@dataclass(frozen=True)
class Wallboard:
    generated_at: datetime
    day: DayWindow
    queues: list[QueueFigures]
    totals: OrganizationTotals


def _aggregates(day: DayWindow) -> dict[str, Any]:
    """SUM/COUNT/MIN expressions over calls; the queryset decides the grouping."""
    today = _offered_in(day)
    answered = today & Q(status__in=ANSWERED_STATUSES)
    left_unanswered = today & Q(status=CallStatus.ABANDONED)
    short = left_unanswered & Q(wait_seconds__lt=F("queue__short_abandon_seconds"))
    # A NULL wait is not short: without a measured wait the abandon counts in full.
    abandoned = left_unanswered & (
        Q(wait_seconds__isnull=True) | Q(wait_seconds__gte=F("queue__short_abandon_seconds"))
    )
    answered_wait_known = answered & Q(wait_seconds__isnull=False)
    handled = today & Q(status=CallStatus.COMPLETED, talk_seconds__isnull=False)
    return {
        "offered": Count("id", filter=today),
        "answered": Count("id", filter=answered),
        "abandoned": Count("id", filter=abandoned),
        "short_abandoned": Count("id", filter=short),
        "within_sl": Count(
            "id", filter=answered & Q(wait_seconds__lte=F("queue__service_level_seconds"))
        ),
        "wait_sum": Sum("wait_seconds", filter=answered_wait_known),
        "wait_count": Count("id", filter=answered_wait_known),
        "talk_sum": Sum("talk_seconds", filter=handled),
        "talk_count": Count("id", filter=handled),
        "waiting": Count("id", filter=WAITING),
        "oldest_queued_at": Min("queued_at", filter=WAITING),
    }


def _relevant_calls(organization: Organization, queue_ids: list[int], day: DayWindow) -> Any:
    """The organization's calls of these queues that were offered today or still wait."""
    return (
        Call.objects.for_organization(organization)
        .filter(queue_id__in=queue_ids)
        .filter(_offered_in(day) | WAITING)
        # No ORDER BY: it has no use in an aggregate and would only cost a sort.
        .order_by()
    )


def _call_figures(
    row: Mapping[str, Any], now: datetime, callbacks: int, voicemails: int
) -> dict[str, Any]:
    answered = row.get("answered") or 0
    abandoned = row.get("abandoned") or 0
    within = row.get("within_sl") or 0
    return {
        "callers_waiting": row.get("waiting") or 0,
        "callbacks_waiting": callbacks,
        "voicemails_waiting": voicemails,
        "longest_wait_seconds": elapsed_seconds(row.get("oldest_queued_at"), now),
        "offered": row.get("offered") or 0,
        "answered": answered,
        "abandoned": abandoned,
        "short_abandoned": row.get("short_abandoned") or 0,
        "answered_within_service_level": within,
        "service_level_percent": percent(within, answered + abandoned),
        "asa_seconds": mean(row.get("wait_sum"), row.get("wait_count") or 0),
        "aht_seconds": mean(row.get("talk_sum"), row.get("talk_count") or 0),
        "abandon_rate_percent": percent(abandoned, answered + abandoned),
    }


def _queues(organization: Organization, queue_ids: Iterable[int] | None) -> list[CallQueue]:
    # Counted in the same statement: a wallboard read costs no extra round trip.
    open_callbacks = (
        Callback.objects.filter(queue=OuterRef("pk"), status__in=CALLBACK_OPEN)
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Callers moved into the queue from the one they joined, waiting here now.
    moved_in = (
        Call.objects.filter(organization_id=OuterRef("organization_id"))
        .filter(IN_LINE, flags__has_key=WAITING_IN_FLAG)
        .annotate(waiting_in=Cast(KeyTextTransform(WAITING_IN_FLAG, "flags"), IntegerField()))
        .filter(waiting_in=OuterRef("pk"))
        .order_by()
        .values("waiting_in")
    )
    new_voicemails = (
        Voicemail.objects.filter(queue=OuterRef("pk"), status=VoicemailStatus.NEW)
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queues = (
        CallQueue.objects.for_organization(organization)
        .filter(is_active=True)
        .annotate(
            open_callbacks=Coalesce(Subquery(open_callbacks), 0),
            new_voicemails=Coalesce(Subquery(new_voicemails), 0),
            moved_in=Coalesce(Subquery(moved_in.annotate(n=Count("pk")).values("n")), 0),
            moved_in_since=Subquery(moved_in.annotate(at=Min("queued_at")).values("at")),
        )
    )
    if queue_ids is not None:
        # Another organization's id matches nothing here: it yields no row, not an error.
        queues = queues.filter(pk__in=list(queue_ids))
    return list(queues.order_by("name", "id"))


def _moved_in(queue: CallQueue) -> tuple[int, datetime | None]:
    """The callers moved into the queue and how long the first has waited (since they
    joined their first queue), as ``_queues`` annotated it."""
    return int(getattr(queue, "moved_in", 0)), getattr(queue, "moved_in_since", None)


def _with_moved_in(
    row: Mapping[str, Any], moved: Iterable[tuple[int, datetime | None]]
) -> dict[str, Any]:
    """The aggregate row, with the callers moved in counted as waiting there."""
    moved = list(moved)
    since = [at for _, at in moved if at is not None]
    if row.get("oldest_queued_at") is not None:
        since.append(row["oldest_queued_at"])
    return {
        **row,
        "waiting": (row.get("waiting") or 0) + sum(n for n, _ in moved),
        "oldest_queued_at": min(since, default=None),
    }


def _new_voicemails(queue: CallQueue) -> int:
    """The count ``_queues`` annotated the queue with."""
    return int(getattr(queue, "new_voicemails", 0))


def _open_callbacks(queue: CallQueue) -> int:
    """The count ``_queues`` annotated the queue with."""
    return int(getattr(queue, "open_callbacks", 0))


def _memberships(organization: Organization, queue_ids: list[int]) -> list[QueueMembership]:
    return list(
        QueueMembership.objects.for_organization(organization)
        .filter(queue_id__in=queue_ids, is_logged_in=True)
        # The agent's own organization is checked too: a membership row must never pull
        # another tenant's agent onto this wallboard.
        .filter(agent__organization_id=organization.pk)
        .select_related("agent")
        .order_by("agent__extension", "agent_id")
    )


def _member_state_counts(
    organization: Organization, queue_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Logged-in members by state, per queue: counted in SQL, no agent rows loaded."""
    rows = (
        QueueMembership.objects.for_organization(organization)
        .filter(queue_id__in=queue_ids, is_logged_in=True)
        .filter(agent__organization_id=organization.pk)
        .values("queue_id", "agent__state")
        .annotate(n=Count("id"))
    )
    counts: dict[int, Counter[str]] = {queue_id: Counter() for queue_id in queue_ids}
    for row in rows:
        counts[row["queue_id"]][row["agent__state"]] += row["n"]
    return {queue_id: _state_counts(counted.elements()) for queue_id, counted in counts.items()}


def _state_counts(states: Iterable[str]) -> dict[str, int]:
    """Every state, zeros included, so a wallboard's columns never come and go."""
    counted = Counter(states)
    return {state.value: counted.get(state.value, 0) for state in AgentState}


def _queue_agent(membership: QueueMembership, now: datetime) -> QueueAgent:
    agent = membership.agent
    return QueueAgent(
        agent_id=agent.pk,
        name=agent.name,
        extension=agent.extension,
        state=agent.state,
        reason=agent.state_reason,
        seconds_in_state=elapsed_seconds(agent.state_changed_at, now),
        paused_in_queue=membership.paused,
    )


def _now(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now


def _queue_rows(
    organization: Organization,
    queues: list[CallQueue],
    day: DayWindow,
    now: datetime,
    *,
    with_agents: bool = True,
) -> list[QueueFigures]:
    ids = [queue.pk for queue in queues]
    by_queue = {
        row["queue_id"]: row
        for row in _relevant_calls(organization, ids, day)
        .values("queue_id")
        .annotate(**_aggregates(day))
    }
    members: dict[int, list[QueueMembership]] = {queue_id: [] for queue_id in ids}
    if with_agents:
        for membership in _memberships(organization, ids):
            members[membership.queue_id].append(membership)
        by_state = {
            queue_id: _state_counts(m.agent.state for m in rows)
            for queue_id, rows in members.items()
        }
    else:
        by_state = _member_state_counts(organization, ids)
    return [
        QueueFigures(
            queue_id=queue.pk,
            queue_name=queue.name,
            service_level_seconds=queue.service_level_seconds,
            short_abandon_seconds=queue.short_abandon_seconds,
            agents_by_state=by_state[queue.pk],
            agents=tuple(_queue_agent(m, now) for m in members[queue.pk]),
            **_call_figures(
                _with_moved_in(by_queue.get(queue.pk, {}), [_moved_in(queue)]),
                now,
                _open_callbacks(queue),
                _new_voicemails(queue),
            ),
        )
        for queue in queues
    ]


def figures_by_queue(
    *,
    organization: Organization,
    now: datetime | None = None,
    queue_ids: Iterable[int] | None = None,
    with_agents: bool = True,
) -> list[QueueFigures]:
    """The figures of the organization's active queues (all, or those in ``queue_ids``).

    ``now`` (aware; default: the current time) picks the organization's local day and
    is the reference for waits and time in state. Queues are ordered by name. Without
    ``with_agents`` the rows have the counts by state but no per-agent list (``agents``
    empty): what an agent's console shows, without loading a big queue's members.
    """
    now = _now(now)
    day = local_day(time_zone=organization.time_zone, now=now)
    queues = _queues(organization, queue_ids)
    return _queue_rows(organization, queues, day, now, with_agents=with_agents)


def wallboard(
    *,
    organization: Organization,
    now: datetime | None = None,
    queue_ids: Iterable[int] | None = None,
) -> Wallboard:
    """``figures_by_queue`` plus the organization totals, all read against the same ``now``.

    The totals come from their own ungrouped aggregate, not from summing the rows:
    counts equal the sums of the queues, while ASA, AHT and the percentages are taken
    over all the calls (not averages of the queues' averages).
    """
    now = _now(now)
    day = local_day(time_zone=organization.time_zone, now=now)
    queues = _queues(organization, queue_ids)
    rows = _queue_rows(organization, queues, day, now)
    ids = [queue.pk for queue in queues]
    total = _relevant_calls(organization, ids, day).aggregate(**_aggregates(day))
    agents = {agent.agent_id: agent.state for row in rows for agent in row.agents}
    totals = OrganizationTotals(
        agents_by_state=_state_counts(agents.values()),
        **_call_figures(
            _with_moved_in(total, [_moved_in(queue) for queue in queues]),
            now,
            sum(row.callbacks_waiting for row in rows),
            sum(row.voicemails_waiting for row in rows),
        ),
    )
    return Wallboard(generated_at=now, day=day, queues=rows, totals=totals)
