"""What a committed change puts on the screens: the publisher's render jobs
(``realtime.publish``). Each job reads the committed rows and returns the messages,
``(group, message)`` pairs, for the channel layer; it runs in the bridge's rendering
worker, or on commit elsewhere. Importable by the worker by name (jobs are pickled as
references to these functions).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.utils import timezone

from config.db import roundtrips
from contactcenter.models import Agent
from contactcenter.selectors import screen_calls, screens
from contactcenter.selectors.voicemails import voicemails_for_screens
from crm.selectors.cases import case_with_source_call
from crm.selectors.notifications import notification_by_id
from realtime import messages as msgs
from realtime import presence
from realtime.groups import agent_group, queues_group, user_group
from realtime.screens import console, pop, render
from realtime.send import Message, message


def given(messages: list[Message]) -> list[Message]:
    return messages


def publish_changes(
    organization_id: int,
    call_ids: frozenset[int],
    agent_ids: frozenset[int],
    queue_ids: frozenset[int],
    forced_type: msgs.CallMessageType | None,
) -> list[Message]:
    if not (call_ids or agent_ids or queue_ids):
        return []  # a batch of replays changes nothing
    messages: list[Message] = []
    if call_ids and presence.anyone_online(organization_id):
        messages += _call_messages(organization_id, call_ids, agent_ids, forced_type)
    elif agent_ids and not call_ids:
        stated = presence.online_among(organization_id, agent_ids)
        messages += _agent_messages(screen_calls.agents_by_id(organization_id, stated), stated)
    if queue_ids:
        ping = {"type": "queues.changed", "queue_ids": sorted(queue_ids)}
        messages.append((queues_group(organization_id), ping))
    return messages


def _call_messages(
    organization_id: int,
    call_ids: frozenset[int],
    agent_ids: frozenset[int],
    forced_type: msgs.CallMessageType | None,
) -> list[Message]:
    """The changed calls' messages for the screens that show them, and the changed agents'
    ``agent.state``, for the agents with a console: the calls' agents, their timeline,
    who of them is online and the agents' rows and memberships are each read once, in
    three round trips: the calls; the other calls of their customers and the customers'
    contacts; the agents and their history with those customers (and one more for the
    timeline of those other calls, when there are some)."""
    now = timezone.now()
    calls, entries = roundtrips.read_together(
        screen_calls.changed_calls_read(organization_id, call_ids),
        screen_calls.agent_entries_read(call_ids),
    )
    # The other calls are the same customers': the changed calls' pops find their contacts.
    pops = pop.PopBuilder(calls)
    related, *contacts = roundtrips.read_together(
        screen_calls.related_read(
            organization_id, pop.customer_numbers(calls), calls, console.wrapped_up_since(now)
        ),
        *pops.contact_reads(),
    )
    pops.take_contacts(contacts)
    if related:  # seldom: a customer on two calls, or one in wrap-up
        entries += screen_calls.agent_entries([c.pk for c in related])
    # Only the agents these calls name: a floor of a thousand consoles costs no more than
    # one of ten.
    named = console.named_agents([*calls, *related], entries)
    online = presence.online_among(organization_id, named | agent_ids)
    named &= online
    stated = agent_ids & online
    pops.agent_ids = set(named)
    wanted = list(named | stated)
    rows, *history = roundtrips.read_together(
        screen_calls.agents_read(organization_id, wanted), *pops.history_reads()
    )
    pops.take_history(history)
    agents = {a.pk: a for a in rows}
    watched = [agents[pk] for pk in sorted(named) if pk in agents]
    memberships = screen_calls.memberships_of(watched)
    changes_of = functools.partial(
        console.call_changes,
        agents=watched,
        now=now,
        entries=entries,
        memberships=memberships,
        pops=pops,
    )
    changed = changes_of(calls=calls, forced_type=forced_type)
    changed += changes_of(calls=related, forced_type="call.updated")  # only their pops changed
    messages = [(agent_group(c.agent_id), message(c.type, c.data)) for c in changed]
    return messages + _agent_messages(agents, stated)


def _agent_messages(agents: dict[int, Agent], stated: Iterable[int]) -> list[Message]:
    """``agent.state`` of the ``stated`` agents."""
    messages: list[Message] = []
    for pk in sorted(stated):
        if pk in agents:
            data = msgs.AgentStateData(agent=render.agent_view(agents[pk]))
            messages.append((agent_group(pk), message("agent.state", data)))
    return messages


def publish_agent(organization_id: int, agent_id: int) -> list[Message]:
    queue_ids = screens.agent_queue_ids(organization_id=organization_id, agent_id=agent_id)
    return publish_changes(
        organization_id, frozenset(), frozenset({agent_id}), frozenset(queue_ids), None
    )


def publish_notification(notification_id: int) -> list[Message]:
    notification = notification_by_id(notification_id=notification_id)
    if notification is None:  # deleted again before this ran
        return []
    data = msgs.NotificationCreatedData(notification=render.notification_view(notification))
    return [(user_group(notification.user_id), message("notification.created", data))]


def publish_voicemails(organization_id: int, voicemail_ids: frozenset[int]) -> list[Message]:
    """``voicemail.updated`` to the consoles of each voicemail's queue's members (and of
    its claimer)."""
    messages: list[Message] = []
    for row in voicemails_for_screens(organization_id=organization_id, voicemail_ids=voicemail_ids):
        data = msgs.VoicemailUpdatedData(voicemail=render.voicemail_view(row.voicemail))
        updated = message("voicemail.updated", data)
        messages += [(agent_group(pk), updated) for pk in row.agent_ids]
    return messages


def publish_case(case_id: int) -> list[Message]:
    case = case_with_source_call(case_id=case_id)
    if case is None:
        return []
    agent_ids = {case.assigned_agent_id}
    if case.source_call is not None:
        agent_ids.add(case.source_call.agent_id)
    data = msgs.CaseCreatedData(case=render.case_view(case))
    return [(agent_group(pk), message("case.created", data)) for pk in agent_ids if pk]
