"""The domain's side of the bridge: telephony events in, call and agent records out."""

import random

import pytest
from django.db import connection

from contactcenter import facts as te
from contactcenter.enums import CallDirection, CallSource, HangupParty, TransferKind
from contactcenter.models import Call, CallEvent, CallTransfer, QueueMembership
from contactcenter.services.telephony import telephony_apply
from contactcenter.services.telephony.calls import Lookups
from tests.conftest import Floor
from tests.contactcenter.telephony_calls import KEY, answered_call, at
from tests.factories import make_queue
from tests.roundtrip_count import round_trips

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    calls = [
        (
            c.external_id,
            c.status,
            c.agent_id,
            c.queue_id,
            c.started_at,
            c.queued_at,
            c.answered_at,
            c.ended_at,
            c.wait_seconds,
            c.talk_seconds,
            c.hold_seconds,
            c.hangup_by,
            c.caller_number,
            c.caller_name,
        )
        for c in Call.objects.order_by("external_id")
    ]
    events = list(CallEvent.objects.order_by("dedup_key").values_list("dedup_key", "type"))
    return [calls, events]


def test_answered_queue_call(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "support")
    events = answered_call(floor_a.agent.interface)
    telephony_apply(organization_id=floor_a.org.pk, connection_key="asterisk:1", events=events)
    call = Call.objects.get()
    assert call.status == "completed"
    assert call.direction == "inbound"
    assert (call.queue, call.agent) == (queue, floor_a.agent)
    assert call.started_at == at(0)
    assert call.answered_at == at(6.313431)
    assert call.ended_at == at(126.535379)
    assert (call.wait_seconds, call.talk_seconds, call.hold_seconds) == (6, 120, 0)
    assert call.hangup_by == "caller"
    assert call.caller_name == "JOHN SMITH"
    types = list(call.events.values_list("type", flat=True))
    assert types == [
        "call.created",
        "queue.joined",
        "agent.called",
        "call.answered",
        "agent.completed",
        "call.ended",
    ]


def test_replay_and_shuffle_give_the_same_records(floor_a: Floor) -> None:
    make_queue(floor_a.org, "support")
    events = answered_call(floor_a.agent.interface)
    telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    first = snapshot()
    result = telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    assert result.applied == 0 and result.duplicates == len(events)
    assert snapshot() == first

    Call.objects.all().delete()
    rng = random.Random(7)
    for _ in range(5):
        Call.objects.all().delete()
        shuffled = events[:]
        rng.shuffle(shuffled)
        for event in shuffled:  # one event per batch, in a random order
            telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=[event])
        assert snapshot() == first


def test_abandoned_call_and_ring_no_answer_do_not_answer_it(floor_a: Floor) -> None:
    make_queue(floor_a.org, "support")
    agent = floor_a.agent.interface
    events = [
        te.CallStarted(
            call_key=KEY,
            at=at(0),
            dedup_key="1",
            direction=CallDirection.INBOUND,
            caller_number="+15559876543",
        ),
        te.QueueJoined(call_key=KEY, at=at(0.05), dedup_key="2", queue="support"),
        te.AgentOffered(call_key=KEY, at=at(0.2), dedup_key="3", agent=agent, leg_id="L1"),
        te.AgentOfferEnded(
            call_key=KEY,
            at=at(15.2),
            dedup_key="4",
            agent=agent,
            leg_id="L1",
            outcome="no_answer",
            ring_ms=15000,
        ),
        te.QueueAbandoned(
            call_key=KEY,
            at=at(27.9),
            dedup_key="5",
            queue="support",
            wait_seconds=28,
            position=1,
            original_position=1,
        ),
        te.CallEnded(call_key=KEY, at=at(28), dedup_key="6", cause=16),
    ]
    telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    call = Call.objects.get()
    assert call.status == "abandoned"
    assert call.answered_at is None and call.agent is None
    assert call.wait_seconds == 28
    assert call.talk_seconds is None


def test_hold_intervals_add_up(floor_a: Floor) -> None:
    agent = floor_a.agent.interface
    events = [
        *answered_call(agent)[:4],
        te.CallHeld(call_key=KEY, at=at(40), dedup_key="h1", by_agent=agent),
        te.CallResumed(call_key=KEY, at=at(70.3), dedup_key="u1", by_agent=agent),
        te.CallHeld(call_key=KEY, at=at(100), dedup_key="h2", by_agent=agent),
    ]
    telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    assert Call.objects.get().status == "on_hold"
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="c",
        events=[
            te.CallResumed(call_key=KEY, at=at(115.5), dedup_key="u2", by_agent=agent),
            te.CallEnded(call_key=KEY, at=at(150), dedup_key="end"),
        ],
    )
    call = Call.objects.get()
    assert call.status == "completed"
    assert call.hold_seconds == 30 + 15


def test_blind_transfer_keeps_first_agent_and_records_the_transfer(floor_a: Floor) -> None:
    first, second = floor_a.agent, floor_a.other_agent
    events = [
        *answered_call(first.interface)[:4],
        te.CallTransferred(
            call_key=KEY,
            at=at(50),
            dedup_key="t",
            transfer_key="x1",
            kind=TransferKind.BLIND,
            from_agent=first.interface,
            to_number="1002@from-internal",
            result="Success",
        ),
        te.AgentCompleted(
            call_key=KEY,
            at=at(50.1),
            dedup_key="ac",
            agent=first.interface,
            talk_seconds=45,
            reason=HangupParty.TRANSFER,
        ),
        te.TransferAnswered(
            call_key=KEY, at=at(59), dedup_key="ta", transfer_key="x1", to_agent=second.interface
        ),
        te.CallAnswered(call_key=KEY, at=at(59), dedup_key="a2", agent=second.interface),
        te.CallEnded(call_key=KEY, at=at(120), dedup_key="e"),
    ]
    telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    call = Call.objects.get()
    assert call.agent == first
    assert call.answered_at == at(6.313431)
    assert call.hangup_by == ""
    transfer = CallTransfer.objects.get()
    assert (transfer.kind, transfer.status, transfer.from_agent, transfer.to_agent) == (
        "blind",
        "completed",
        first,
        second,
    )
    assert transfer.to_number == "1002@from-internal"
    assert transfer.answered_at == at(59)
    telephony_apply(organization_id=floor_a.org.pk, connection_key="c", events=events)
    assert CallTransfer.objects.count() == 1


def test_resync_picks_up_live_calls_and_closes_the_vanished(floor_a: Floor) -> None:
    agent = floor_a.agent.interface
    make_queue(floor_a.org, "support")
    # A call the bridge saw start, then lost the connection.
    telephony_apply(
        organization_id=floor_a.org.pk, connection_key="c", events=answered_call(agent)[:4]
    )
    resync_at = at(500)
    live = te.CallObserved(
        call_key="B",
        at=resync_at,
        dedup_key="obs:B",
        direction=CallDirection.INBOUND,
        status="in_progress",
        started_at=at(400),
        caller_number="+15550001111",
        agent=agent,
    )
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="c",
        events=[
            live,
            te.ResyncCompleted(at=resync_at, live_call_keys=frozenset({"B"}), connection="c"),
        ],
    )
    gone = Call.objects.get(external_id=KEY)
    assert gone.status == "completed"
    assert gone.ended_at == resync_at
    assert gone.flags["ended_while_disconnected"] is True
    picked = Call.objects.get(external_id="B")
    assert picked.status == "in_progress"
    assert picked.flags == {"answered_at_unknown": True}
    # Its AgentComplete later tells the talk time, hence the answer time.
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="c",
        events=[
            te.AgentCompleted(
                call_key="B",
                at=at(620),
                dedup_key="B5",
                agent=agent,
                talk_seconds=117,
                wait_seconds=8,
                reason=HangupParty.AGENT,
            ),
            te.CallEnded(call_key="B", at=at(620.2), dedup_key="B6"),
        ],
    )
    picked.refresh_from_db()
    assert picked.status == "completed"
    assert picked.answered_at == at(503.2)  # the end minus TalkTime
    assert picked.flags["answered_at_derived"] is True
    assert (picked.talk_seconds, picked.wait_seconds, picked.hangup_by) == (117, 8, "agent")
    # Another connection's resync leaves this connection's calls alone.
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="c",
        events=[
            te.CallObserved(
                call_key="C",
                at=at(700),
                dedup_key="obs:C",
                direction=CallDirection.INBOUND,
                status="queued",
                queue="support",
                wait_seconds=20,
            ),
        ],
    )
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="other",
        events=[
            te.ResyncCompleted(at=at(701), live_call_keys=frozenset(), connection="other"),
        ],
    )
    assert Call.objects.get(external_id="C").status == "queued"
    assert Call.objects.get(external_id="C").queued_at == at(680)


def test_unknown_agents_and_queues_are_ignored_not_fatal(floor_a: Floor) -> None:
    telephony_apply(
        organization_id=floor_a.org.pk,
        connection_key="c",
        events=[
            te.AgentPauseChanged(agent="PJSIP/9999", queue="nope", at=at(0), paused=True),
            te.QueueJoined(call_key="Z", at=at(0), dedup_key="z1", queue="nope"),
        ],
    )
    call = Call.objects.get()
    assert call.queue is None and call.status == "queued"
    assert call.flags == {"started_at_unknown": True}
    assert call.source == CallSource.ASTERISK


def test_a_batch_loads_the_agents_it_names_and_no_others(floor_a: Floor) -> None:
    from config.db import roundtrips
    from contactcenter.services.telephony.apply import _lookups_of, _named_agents
    from tests.factories import make_agent

    def _lookups(organization_id: int, events: list[te.Fact]) -> Lookups:
        (agents,) = roundtrips.read_together(_named_agents(organization_id, events))
        return _lookups_of(agents, [])

    crowd = [make_agent(floor_a.org) for _ in range(20)]
    by_extension, by_identity = crowd[3], crowd[7]
    events: list[te.Fact] = [
        *answered_call(floor_a.agent.interface),
        te.CallTransferred(
            call_key=KEY,
            at=at(130),
            dedup_key="t1",
            transfer_key="x1",
            kind=TransferKind.BLIND,
            from_agent=f"client:{by_extension.extension}",  # a desk client, by extension
            to_agent=f"client:{by_identity.twilio_identity}",  # the browser softphone
        ),
    ]
    lookups = _lookups(floor_a.org.pk, events)
    assert {a.pk for a in lookups.agents.values()} == {
        floor_a.agent.pk,
        by_extension.pk,
        by_identity.pk,
    }
    assert lookups.agent(floor_a.agent.interface) == floor_a.agent
    assert lookups.agent(f"client:{by_extension.extension}") == by_extension
    assert lookups.agent(f"client:{by_identity.twilio_identity}") == by_identity
    assert lookups.agent("client:agent-999999") is None
    assert _lookups(floor_a.org.pk, []).agents == {}


def test_a_batch_costs_a_handful_of_round_trips(floor_a: Floor) -> None:
    """A batch's reads go out together, and its writes ahead of the next read (or at the
    end): a stored call's update and timeline travel with the agents' locks, then the
    agent's state, its interval and its membership at the end."""
    support = make_queue(floor_a.org, "support")
    QueueMembership.objects.create(organization=floor_a.org, queue=support, agent=floor_a.agent)
    iface = floor_a.agent.interface
    events = answered_call(iface)
    org = floor_a.org.pk
    telephony_apply(organization_id=org, connection_key="asterisk:1", events=events[:3])
    ringing = te.AgentMemberState(agent=iface, queue="support", at=at(6.3), device="in_use")
    with round_trips() as wire:
        telephony_apply(
            organization_id=org, connection_key="asterisk:1", events=[*events[3:], ringing]
        )
    if connection.vendor == "postgresql":
        # The savepoint (in the test's transaction; BEGIN in the bridge's); the locked
        # calls, the agents named, the queues, the stored keys and (an answer is in the
        # batch) the organization's recording policy; the call's writes,
        # the locked agents and their memberships; the agent's writes; the release
        # (COMMIT). With only the writes held, each read on its own: 10.
        assert wire.count == 5, wire.statements
        savepoint, reads, writes_and_locks, last_writes, release = wire.statements
        assert savepoint.startswith("SAVEPOINT") and release.startswith("RELEASE")
        assert reads.count(";\n") == 4 and reads.count("FOR UPDATE") == 1
        assert writes_and_locks.startswith(("UPDATE", "INSERT"))
        assert writes_and_locks.count("FOR UPDATE") == 1
        assert "FOR UPDATE" not in last_writes
    call = Call.objects.get()
    assert (call.status, call.agent) == ("completed", floor_a.agent)
    floor_a.agent.refresh_from_db()
    assert floor_a.agent.state == "on_call"
    assert call.events.count() == 6


@pytest.mark.parametrize(
    ("organization", "queue", "recorded"),
    [
        ("all", "", True),  # the queue's blank policy is its organization's
        ("all", "none", False),
        ("none", "all", True),
        ("none", "", False),
        ("on_demand", "", False),  # on demand starts nothing by itself
        ("all", "on_demand", False),
    ],
)
def test_a_batch_says_which_answered_calls_its_policy_records_from_the_start(
    floor_a: Floor, floor_b: Floor, organization: str, queue: str, recorded: bool
) -> None:
    floor_a.org.recording_policy = organization
    floor_a.org.save(update_fields=["recording_policy"])
    support = make_queue(floor_a.org, "support")
    support.recording_policy = queue
    support.save(update_fields=["recording_policy"])
    # Another organization's queue of the same name and policy "all" changes nothing.
    other = make_queue(floor_b.org, "support")
    other.recording_policy = "all"
    other.save(update_fields=["recording_policy"])
    events = answered_call(floor_a.agent.interface)
    result = telephony_apply(
        organization_id=floor_a.org.pk, connection_key="asterisk:1", events=events
    )
    assert result.record_from_start == ({KEY} if recorded else set())


def test_a_call_answered_outside_any_queue_follows_its_organization(floor_a: Floor) -> None:
    floor_a.org.recording_policy = "all"
    floor_a.org.save(update_fields=["recording_policy"])
    started, answered = (
        answered_call(floor_a.agent.interface)[0],
        te.CallAnswered(
            call_key=KEY, at=at(3), dedup_key="a", agent=floor_a.agent.interface, leg_id="L2"
        ),
    )
    with round_trips() as wire:
        result = telephony_apply(
            organization_id=floor_a.org.pk,
            connection_key="asterisk:1",
            events=[started, answered],
        )
    assert result.record_from_start == {KEY}
    assert any("contactcenter_organization" in s for s in wire.statements)
    # A batch without an answer asks nothing of the policy and records nothing.
    with round_trips() as wire:
        result = telephony_apply(
            organization_id=floor_a.org.pk,
            connection_key="asterisk:1",
            events=[te.CallHeld(call_key=KEY, at=at(4), dedup_key="h")],
        )
    assert result.record_from_start == set()
    assert not any("contactcenter_organization" in s for s in wire.statements)
