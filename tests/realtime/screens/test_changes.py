"""What rendering a batch of changed calls reads (realtime/screens/changes.py): a fixed
number of reads and round trips, however many agents a call rings."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import CallEvent
from realtime.screens import changes
from tests.conftest import Floor
from tests.factories import make_agent, make_call, make_member

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_call_ringing_a_floor_is_rendered_with_a_fixed_number_of_reads(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    """A queue rings every agent online: the call's messages, one per agent rung, and the
    agent.state of the one whose state changed cost the same few reads however many
    agents there are (the agents, their memberships and the timeline read once)."""
    org = floor_a.org
    agents = [floor_a.agent, *(make_agent(org, make_member(org, "agent")) for _ in range(9))]
    call = make_call(org, agent=None, caller_number="+15550001111", status=CallStatus.QUEUED)
    for agent in agents:
        CallEvent.objects.create(
            organization=org,
            call=call,
            type=CallEventType.AGENT_CALLED,
            agent=agent,
            occurred_at=timezone.now(),
            dedup_key=f"offer-{agent.pk}",
        )
    online = {a.pk for a in agents} | {floor_a.other_agent.pk}
    monkeypatch.setattr("realtime.presence.anyone_online", lambda organization_id: True)
    monkeypatch.setattr(
        "realtime.presence.online_among", lambda organization_id, ids: set(ids) & online
    )
    with django_assert_max_num_queries(7):
        messages = changes.publish_changes(
            org.pk, frozenset({call.pk}), frozenset({floor_a.other_agent.pk}), frozenset(), None
        )
    by_type: dict[str, set[str]] = {}
    for group, message in messages:
        by_type.setdefault(message["type"], set()).add(group)
    assert by_type == {
        "call.ringing": {f"agent.{a.pk}" for a in agents},
        "agent.state": {f"agent.{floor_a.other_agent.pk}"},
    }


def test_a_call_with_its_customers_other_call_is_rendered_in_four_round_trips(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calls and their timeline; the customer's other calls on a screen and the
    customer's contacts; the other calls' timeline; the agents and their history with
    the customer: four round trips (three without another call), and then each agent's
    open cases of the contact (by a visibility rule of their own)."""
    from django.db import connection

    from tests.crm.factories import make_contact
    from tests.roundtrip_count import round_trips

    org, customer = floor_a.org, "+15550001111"
    contact = make_contact(org, customer, first_name="Known")
    talking = make_call(
        org, agent=floor_a.other_agent, caller_number=customer, status=CallStatus.IN_PROGRESS
    )
    ringing = make_call(org, agent=None, caller_number=customer, status=CallStatus.QUEUED)
    CallEvent.objects.create(
        organization=org,
        call=ringing,
        type=CallEventType.AGENT_CALLED,
        agent=floor_a.agent,
        occurred_at=timezone.now(),
        dedup_key="offer",
    )
    monkeypatch.setattr("realtime.presence.anyone_online", lambda organization_id: True)
    monkeypatch.setattr("realtime.presence.online_among", lambda organization_id, ids: set(ids))
    with round_trips() as wire:
        messages = changes.publish_changes(
            org.pk, frozenset({ringing.pk}), frozenset(), frozenset(), None
        )
    sent = {(group, m["type"], m["data"]["call"]["id"]) for group, m in messages}
    assert sent == {
        (f"agent.{floor_a.agent.pk}", "call.ringing", ringing.pk),
        # The other call's pop lists the ringing one among the customer's calls.
        (f"agent.{floor_a.other_agent.pk}", "call.updated", talking.pk),
    }
    for _, message in messages:
        assert [c["id"] for c in message["data"]["pop"]["contacts"]] == [contact.pk]
    if connection.vendor == "postgresql":
        cases = [s for s in wire.statements if s.startswith('SELECT "crm_case"')]
        assert len(cases) == 2
        assert wire.count - len(cases) == 4, wire.statements
