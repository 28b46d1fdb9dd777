"""The reads of the screens' calls: which calls are on an agent's screen, the calls a
change names, their timeline entries that name agents, the agents and their
memberships, and the customers' other calls (realtime.screens builds the messages from
them). The hot ones are ``roundtrips.Shape``s, read together by the publisher.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection, models
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import RowNumber

from config.db import roundtrips
from contactcenter.enums import CallDirection
from contactcenter.models import Agent, Call, CallEvent, CallTransfer, Membership, User
from contactcenter.selectors.access import is_floor_role
from contactcenter.selectors.recordings import RECORDING_POLICY
from contactcenter.transitions import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES

WRAPUP_LIMIT = 20


def with_last_entry(calls: QuerySet[Call]) -> QuerySet[Call]:
    """Calls with the type of their latest timeline entry (names the message) and the
    recording policy that applies to them (``recording_policy``: the card offers
    "Start recording" where it is on demand)."""
    latest = CallEvent.objects.filter(call=OuterRef("pk")).order_by("-occurred_at", "-id")
    return calls.annotate(
        last_entry=Subquery(latest.values("type")[:1]), recording_policy=RECORDING_POLICY
    ).select_related("organization")


# A timeline entry that names an agent: (call id, agent id, entry type).
AgentEntry = tuple[int, int, str]


def agent_entries(
    call_ids: Iterable[int], agent_ids: Iterable[int] | None = None
) -> list[AgentEntry]:
    """The calls' timeline entries that name an agent (of ``agent_ids``, or any), in
    timeline order per call: one query, from which both ``named_agents`` and ``legs``
    work."""
    (rows,) = roundtrips.read_together(agent_entries_read(call_ids, agent_ids))
    return rows


def agent_entries_read(
    call_ids: Iterable[int], agent_ids: Iterable[int] | None = None
) -> roundtrips.Read:
    """The read behind ``agent_entries`` (for ``config.db.roundtrips``)."""
    if agent_ids is None:
        return _AGENT_ENTRIES(list(call_ids))
    return _ENTRIES_OF_AGENTS(list(call_ids), list(agent_ids))


def _entries(calls: list[int]) -> QuerySet[CallEvent, AgentEntry]:
    rows = CallEvent.objects.filter(call_id__any=calls, agent_id__isnull=False)
    return rows.order_by("call_id", "occurred_at", "id").values_list("call_id", "agent_id", "type")


# Planned for its ids each time: its generic plan was slower than a plan made for the ids
# (docs/benchmarks.md: the figures the code's comments rest on).
_AGENT_ENTRIES = roundtrips.Shape(_entries, prepared=False)
_ENTRIES_OF_AGENTS = roundtrips.Shape(
    lambda calls, agents: _entries(calls).filter(agent_id__any=agents)
)


def related_read(
    organization_id: int,
    numbers: Iterable[str],
    changed: Sequence[Call],
    wrapped_up_since: datetime,
) -> roundtrips.Read:
    """Other calls of the customers (``numbers``) of the changed calls that may be on a
    screen (live, or ended since ``wrapped_up_since`` without a disposition): their pops
    list the changed calls among the customer's last calls (``None`` for no numbers)."""
    numbers = list(numbers)
    if not numbers:
        return None
    return _RELATED_CALLS(organization_id, numbers, wrapped_up_since, [c.pk for c in changed])


def _shown_calls(
    organization_id: int, numbers: list[str], since: datetime, changed: list[int]
) -> QuerySet[Call]:
    shown = Q(status__in=ACTIVE_CALL_STATUSES) | Q(disposition__isnull=True, ended_at__gte=since)
    return (
        Call.objects.for_organization(organization_id)
        .filter(same_customer(numbers))
        .filter(shown)
        .exclude(pk__any=changed)
    )


_RELATED_CALLS = roundtrips.Shape(
    lambda *args: with_last_entry(_shown_calls(*args)).order_by("started_at", "id")
)


WITH_MEMBERSHIP = "user__membership__organization"
"""Agents read with this ``select_related`` bring their memberships (``memberships_of``)."""


def memberships_of(agents: Iterable[Agent]) -> dict[int, Membership]:
    """Each agent's user's membership, by agent id (decides what their pop may show):
    no query when the agents were read with ``WITH_MEMBERSHIP``."""
    agents = list(agents)
    if agents and all(_membership_loaded(a) for a in agents):
        return {a.pk: m for a in agents if (m := _loaded_membership(a)) is not None}
    by_user = {a.user_id: a.pk for a in agents if a.user_id is not None}
    rows = Membership.objects.filter(user_id__in=list(by_user)).select_related("organization")
    return {by_user[m.user_id]: m for m in rows}


def _membership_loaded(agent: Agent) -> bool:
    if agent.user_id is None:
        return True
    if not Agent.user.is_cached(agent):
        return False
    return agent.user is not None and User.membership.is_cached(agent.user)


def _loaded_membership(agent: Agent) -> Membership | None:
    if agent.user is None:
        return None
    try:
        return agent.user.membership
    except Membership.DoesNotExist:
        return None


# Planned for its ids each time: a generic plan, made while the calls table was nearly
# empty (a new database, before autoanalyze), walked the organization's calls for the
# ids, slower than a plan made for the ids each time (docs/benchmarks.md: the figures the
# code's comments rest on).
_CHANGED_CALLS = roundtrips.Shape(
    lambda organization_id, ids: with_last_entry(
        Call.objects.for_organization(organization_id).filter(pk__any=ids)
    ).order_by("started_at", "id"),
    prepared=False,
)
_AGENTS = roundtrips.Shape(
    lambda organization_id, ids: Agent.objects.for_organization(organization_id).filter(pk__any=ids)
)
_AGENTS_WITH_MEMBERSHIP = roundtrips.Shape(
    lambda organization_id, ids: (
        Agent.objects.for_organization(organization_id)
        .filter(pk__any=ids)
        .select_related(WITH_MEMBERSHIP)
    )
)


def changed_calls_read(organization_id: int, call_ids: Iterable[int]) -> roundtrips.Read:
    """The calls, with their latest timeline entry, in start order."""
    return _CHANGED_CALLS(organization_id, list(call_ids))


def agents_read(organization_id: int, agent_ids: Iterable[int]) -> roundtrips.Read:
    """The agents, with their memberships (``WITH_MEMBERSHIP``); ``None`` for none."""
    ids = list(agent_ids)
    return _AGENTS_WITH_MEMBERSHIP(organization_id, ids) if ids else None


def agents_by_id(
    organization_id: int, pks: Iterable[int], *, with_membership: bool = False
) -> dict[int, Agent]:
    """The agents of those ids, in one round trip (none for no ids)."""
    pks = list(set(pks))
    if not pks:
        return {}
    read = _AGENTS_WITH_MEMBERSHIP if with_membership else _AGENTS
    (rows,) = roundtrips.read_together(read(organization_id, pks))
    return {a.pk: a for a in rows}


def screen_calls(agent: Agent, wrapped_up_since: datetime) -> list[Call]:
    """The calls that may be on ``agent``'s screen (the snapshot filters them further):
    live ones they are named in, and at most ``WRAPUP_LIMIT`` they answered that ended
    since ``wrapped_up_since`` without a disposition."""
    scope = Call.objects.for_organization(agent.organization_id)
    named = CallEvent.objects.filter(agent=agent, call__status__in=ACTIVE_CALL_STATUSES).values(
        "call_id"
    )
    live = scope.filter(status__in=ACTIVE_CALL_STATUSES).filter(Q(agent=agent) | Q(pk__in=named))
    wrap_up = scope.filter(
        agent=agent,
        status__in=TERMINAL_CALL_STATUSES,
        disposition__isnull=True,
        ended_at__gte=wrapped_up_since,
    ).order_by("-ended_at", "-id")[:WRAPUP_LIMIT]
    live_ids = live.order_by().values_list("pk", flat=True)
    wrap_up_ids = wrap_up.values_list("pk", flat=True)
    if connection.features.supports_slicing_ordering_in_compound:
        # Both lists of ids in one round trip (a snapshot at a reconnect storm is
        # thousands of these); the calls in another only when there are any.
        ids = set(live_ids.union(wrap_up_ids))
    else:  # SQLite (the embedded default) takes no LIMIT inside a UNION
        ids = set(live_ids) | set(wrap_up_ids)
    if not ids:
        return []
    return list(with_last_entry(scope.filter(pk__in=ids)).order_by("started_at", "id"))


def customer_number(call: Call) -> str:
    return call.callee_number if call.direction == CallDirection.OUTBOUND else call.caller_number


def last_calls_by_customer(
    *, agent: Agent, membership: Membership, numbers: set[str], limit: int
) -> list[tuple[str, Call]]:
    """The customers' calls this member may see (as over REST: an agent their own and
    the ones transferred to or from them; the floor all), the latest ``limit`` per
    customer number, with that number as stored: ranked in one query."""
    customer = _customer_of("")
    calls = Call.objects.for_organization(agent.organization_id).filter(same_customer(numbers))
    if not is_floor_role(membership.role):
        transferred = CallTransfer.objects.filter(Q(from_agent=agent) | Q(to_agent=agent)).values(
            "call_id"
        )
        calls = calls.filter(Q(agent=agent) | Q(pk__in=transferred))
    ranked = calls.annotate(
        customer=customer,
        rank=models.Window(
            RowNumber(),
            partition_by=[customer],
            order_by=[F("started_at").desc(), F("id").desc()],
        ),
    ).filter(rank__lte=limit)
    return [(row.customer, row) for row in ranked]


def agent_history_reads(
    organization_ids: list[int], numbers: list[str], agent_ids: list[int]
) -> list[roundtrips.Read]:
    """Per agent and customer: how many calls the agent took, and the newest one's id;
    and the transfers from or to the agents of the customers' calls."""
    args = (organization_ids, numbers, agent_ids)
    return [_TOOK(*args), _MOVED(*args)]


def _customers_calls(organizations: list[int], numbers: list[str]) -> QuerySet[Call]:
    return Call.objects.filter(organization_id__any=organizations).filter(same_customer(numbers))


# Which of the agents took calls of the customers: how many, and the newest one.
_TOOK = roundtrips.Shape(
    lambda organizations, numbers, agents: (
        _customers_calls(organizations, numbers)
        .filter(agent_id__any=agents)
        .annotate(customer=_customer_of(""))
        .values_list("agent_id", "customer")
        .annotate(calls=Count("id"), newest=Max("id"))
    )
)
# The transfers from or to the agents of the customers' calls.
_MOVED = roundtrips.Shape(
    lambda organizations, numbers, agents: (
        CallTransfer.objects.filter(call__in=_customers_calls(organizations, numbers))
        .filter(Q(from_agent_id__any=agents) | Q(to_agent_id__any=agents))
        .annotate(customer=_customer_of("call__"))
        .values_list("from_agent_id", "to_agent_id", "customer", "call_id")
    )
)


def _customer_of(path: str) -> models.Case:
    """The customer's number of a call (``path``: the lookup to the call), as stored."""
    return models.Case(
        models.When(**{f"{path}direction": CallDirection.OUTBOUND}, then=F(f"{path}callee_number")),
        default=F(f"{path}caller_number"),
    )


def same_customer(numbers: Iterable[str]) -> Q:
    numbers = list(numbers)
    return Q(direction=CallDirection.OUTBOUND, callee_number__any=numbers) | (
        ~Q(direction=CallDirection.OUTBOUND) & Q(caller_number__any=numbers)
    )
