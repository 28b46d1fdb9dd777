"""The supervisor page's read: every agent of an organization with their queues and the
call they are on, the callers waiting in a queue, and the supervisors' monitoring
sessions live on those calls (realtime/screens/floor.py renders it).

Six queries whatever the floor's size: agents, memberships, live calls, their
monitoring entries, the waiting callers' queue joins, queues.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Agent, Call, CallEvent, CallQueue, QueueMembership
from contactcenter.transitions import ACTIVE_CALL_STATUSES


@dataclass(frozen=True)
class MonitorSession:
    """A supervisor listening to, whispering to or barging into a live call."""

    session: str
    mode: str  # as the session started, or as last switched
    supervisor_user_id: int | None
    supervisor_name: str
    started_at: datetime


@dataclass
class FloorCall:
    call: Call
    # The queue the caller is in now: a caller moved to another queue stays counted in
    # the first (``call.queue``, the wallboard's figures), but waits in this one.
    queue: CallQueue | None
    monitors: list[MonitorSession] = field(default_factory=list)


@dataclass
class FloorAgent:
    agent: Agent
    memberships: list[QueueMembership]
    call: FloorCall | None


@dataclass(frozen=True)
class Floor:
    agents: list[FloorAgent]
    waiting: list[FloorCall]  # callers in a queue no agent has answered yet, oldest first
    queues: list[CallQueue]


def _open_sessions(organization_id: int, call_ids: list[int]) -> dict[int, list[MonitorSession]]:
    """The sessions started on ``call_ids`` and not stopped, by call."""
    rows = (
        CallEvent.objects.for_organization(organization_id)
        .filter(
            call_id__in=call_ids,
            type__in=(
                CallEventType.MONITOR_STARTED,
                CallEventType.MONITOR_STOPPED,
                CallEventType.MONITOR_MODE_CHANGED,
            ),
        )
        .order_by("occurred_at", "id")
    )
    started: dict[str, tuple[int, MonitorSession]] = {}
    stopped: set[str] = set()
    switched: dict[str, str] = {}  # the mode each session was last switched to
    for row in rows:
        session = str(row.details.get("session") or "")
        if row.type == CallEventType.MONITOR_STOPPED:
            stopped.add(session)
            continue
        if row.type == CallEventType.MONITOR_MODE_CHANGED:
            switched[session] = str(row.details.get("mode") or "")
            continue
        supervisor = row.details.get("supervisor") or {}
        started[session] = (
            row.call_id,
            MonitorSession(
                session=session,
                mode=str(row.details.get("mode") or ""),
                supervisor_user_id=supervisor.get("user_id"),
                supervisor_name=str(supervisor.get("name") or row.details.get("phone") or ""),
                started_at=row.occurred_at,
            ),
        )
    by_call: dict[int, list[MonitorSession]] = defaultdict(list)
    for session, (call_id, monitor) in started.items():
        if session not in stopped:
            mode = switched.get(session, monitor.mode)
            by_call[call_id].append(replace(monitor, mode=mode))
    return by_call


def _queues_now(
    organization_id: int, calls: list[Call], queues: list[CallQueue]
) -> dict[int, CallQueue]:
    """The queue each waiting caller joined last (their timeline's ``queue.joined``)."""
    if not calls:
        return {}
    by_name = {q.pbx_queue_name: q for q in queues}
    rows = (
        CallEvent.objects.for_organization(organization_id)
        .filter(call_id__in=[c.pk for c in calls], type=CallEventType.QUEUE_JOINED)
        .order_by("occurred_at", "id")
        .values_list("call_id", "details__queue")
    )
    found: dict[int, CallQueue] = {}
    for call_id, name in rows:
        if name in by_name:
            found[call_id] = by_name[name]
    return found


def supervisor_floor(*, organization_id: int) -> Floor:
    """Every active agent (also those in no queue), by name; each with their queue
    memberships and the live call they are on; the callers waiting; the active queues."""
    agents = list(
        Agent.objects.for_organization(organization_id)
        .filter(is_active=True)
        .order_by("name", "id")
    )
    memberships: dict[int, list[QueueMembership]] = defaultdict(list)
    rows = (
        QueueMembership.objects.for_organization(organization_id)
        .filter(agent__is_active=True)
        .select_related("queue")
        .order_by("queue__name", "queue_id")
    )
    for membership in rows:
        memberships[membership.agent_id].append(membership)
    calls = list(
        Call.objects.for_organization(organization_id)
        .filter(status__in=ACTIVE_CALL_STATUSES)
        .select_related("queue")
        .order_by("started_at", "id")
    )
    sessions = _open_sessions(organization_id, [c.pk for c in calls])
    queues = list(
        CallQueue.objects.for_organization(organization_id)
        .filter(is_active=True)
        .order_by("name", "id")
    )
    is_waiting = [c for c in calls if c.status == CallStatus.QUEUED and c.answered_at is None]
    waiting_ids = {c.pk for c in is_waiting}
    now_in = _queues_now(organization_id, is_waiting, queues)
    on_agent: dict[int, FloorCall] = {}
    waiting: list[FloorCall] = []
    for call in calls:
        queue = now_in.get(call.pk, call.queue)
        floor_call = FloorCall(call=call, queue=queue, monitors=sessions.get(call.pk, []))
        if call.pk in waiting_ids:
            waiting.append(floor_call)
        elif call.agent_id is not None:
            on_agent.setdefault(call.agent_id, floor_call)
    return Floor(
        agents=[
            FloorAgent(agent=a, memberships=memberships.get(a.pk, []), call=on_agent.get(a.pk))
            for a in agents
        ],
        waiting=waiting,
        queues=queues,
    )
