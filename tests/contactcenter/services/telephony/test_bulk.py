"""contactcenter.services.telephony.bulk: on PostgreSQL one JSON parameter of rows (small
batches) or COPY (big ones), the ORM elsewhere; all must leave the rows telephony_apply's
ORM statements left. Every test runs on both PostgreSQL paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from config.db import roundtrips
from contactcenter.enums import AgentState, CallDirection, CallSource, CallStatus
from contactcenter.models import AgentStateLog, Call, CallEvent
from contactcenter.services.telephony import bulk
from tests.conftest import Floor
from tests.factories import make_queue
from tests.roundtrip_count import round_trips

T0 = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["arrays", "copy"])
def batch_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small batches take one statement with the rows as JSON; with the limit at 0, every batch is
    a big one and goes through COPY."""
    if request.param == "copy":
        monkeypatch.setattr(bulk, "SMALL_BATCH", 0)
    return str(request.param)


def _call(floor: Floor, key: str) -> Call:
    return Call(
        organization_id=floor.org.pk,
        source=CallSource.ASTERISK,
        external_id=key,
        connection_key="asterisk:test",
        direction=CallDirection.INBOUND,
        started_at=T0,
        flags={"started_at_unknown": True},
    )


def test_new_calls_get_their_ids_and_updates_land(floor_a: Floor) -> None:
    calls = [_call(floor_a, "1.1"), _call(floor_a, "1.2")]
    bulk.calls_insert(calls)
    assert all(c.pk for c in calls)
    stored = {c.external_id: c for c in Call.objects.filter(pk__in=[c.pk for c in calls])}
    assert stored["1.1"].pk == calls[0].pk and stored["1.2"].flags == {"started_at_unknown": True}
    assert stored["1.1"].created_at is not None and stored["1.1"].updated_at is not None

    queue = make_queue(floor_a.org, "support")
    first = calls[0]
    first.queue, first.agent = queue, floor_a.agent
    first.answered_at, first.ended_at = T0 + timedelta(seconds=5), T0 + timedelta(seconds=65)
    first.status, first.talk_seconds, first.flags = CallStatus.COMPLETED, 60, {"x": [1, "two"]}
    first.caller_name = 'O\'Brien, "Jo"\t\\'  # quoting and escapes survive COPY
    bulk.calls_update([first], ["queue", "agent", "answered_at", "ended_at", "status"])
    bulk.calls_update([first], ["talk_seconds", "flags", "caller_name"])
    first.refresh_from_db()
    assert (first.queue_id, first.agent_id, first.status, first.talk_seconds) == (
        queue.pk,
        floor_a.agent.pk,
        CallStatus.COMPLETED,
        60,
    )
    assert first.ended_at == T0 + timedelta(seconds=65)
    assert first.flags == {"x": [1, "two"]}
    assert first.caller_name == 'O\'Brien, "Jo"\t\\'
    assert Call.objects.get(pk=calls[1].pk).status == CallStatus.RINGING  # untouched


def test_values_keep_their_instant_their_text_and_their_nulls(floor_a: Floor) -> None:
    """Times in any offset land as the same instant; text JSON must escape (quotes,
    backslashes, control characters, non-ASCII) lands as written; None is NULL."""
    call = _call(floor_a, "1.3")
    call.started_at = datetime(
        2025, 3, 14, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    call.caller_name = 'Zoë "\\x" \u2603\n\u0001 Ω'
    call.agent = None
    bulk.calls_insert([call])
    stored = Call.objects.get(pk=call.pk)
    assert stored.started_at == datetime(2025, 3, 14, 11, 0, 0, 123456, tzinfo=UTC)
    assert stored.caller_name == call.caller_name and stored.agent_id is None


def test_timeline_keeps_stored_entries_and_rewrites_restated_ones(floor_a: Floor) -> None:
    call = _call(floor_a, "2.1")
    bulk.calls_insert([call])
    org = floor_a.org.pk
    bulk.timeline_insert(
        [
            (org, call.pk, "queue.joined", T0, None, {"queue": "support"}, "k1", False),
            (org, call.pk, "call.created", T0, None, {"from": "1"}, "created", True),
        ]
    )
    later = T0 + timedelta(seconds=1)
    bulk.timeline_insert(
        [
            (org, call.pk, "queue.joined", later, None, {"queue": "other"}, "k1", False),
            (org, call.pk, "call.created", later, floor_a.agent.pk, {"from": "2"}, "created", True),
            (org, call.pk, "call.ended", later, None, {}, "k2", False),
        ]
    )
    rows = {e.dedup_key: e for e in CallEvent.objects.filter(call_id=call.pk)}
    assert set(rows) == {"k1", "created", "k2"}
    assert (rows["k1"].occurred_at, rows["k1"].details) == (T0, {"queue": "support"})
    assert (rows["created"].occurred_at, rows["created"].details) == (later, {"from": "2"})
    assert rows["created"].agent_id == floor_a.agent.pk
    assert rows["k2"].created_at is not None
    assert bulk.stored_dedup_keys(org, ["k1", "k2", "nope"]) == {"k1", "k2"}
    assert bulk.stored_dedup_keys(org, ["k1\x1fk2"]) == set()  # the separator, in a key
    assert bulk.stored_dedup_keys(floor_a.org.pk + 1000, ["k1"]) == set()


def test_state_log_rows_are_inserted(floor_a: Floor) -> None:
    rows = [
        AgentStateLog(
            organization_id=floor_a.org.pk,
            agent=floor_a.agent,
            state=AgentState.AVAILABLE,
            started_at=T0,
            ended_at=T0 + timedelta(seconds=3),
        ),
        AgentStateLog(
            organization_id=floor_a.org.pk,
            agent=floor_a.agent,
            state=AgentState.PAUSED,
            reason="lunch",
            started_at=T0 + timedelta(seconds=3),
        ),
    ]
    bulk.rows_insert(AgentStateLog, rows)
    stored = list(
        AgentStateLog.objects.filter(agent=floor_a.agent, started_at__gte=T0).order_by("started_at")
    )
    assert [(r.state, r.reason, r.ended_at) for r in stored] == [
        (AgentState.AVAILABLE, "", T0 + timedelta(seconds=3)),
        (AgentState.PAUSED, "lunch", None),
    ]


def test_open_intervals_end_at_the_time_given_per_agent(floor_a: Floor) -> None:
    other = floor_a.other_agent
    AgentStateLog.objects.filter(agent__in=[floor_a.agent, other]).delete()
    rows = [
        AgentStateLog(organization_id=floor_a.org.pk, agent=a, state=s, started_at=T0, ended_at=e)
        for a, s, e in [
            (floor_a.agent, AgentState.AVAILABLE, T0 + timedelta(seconds=1)),  # closed already
            (floor_a.agent, AgentState.PAUSED, None),
            (other, AgentState.AVAILABLE, None),
        ]
    ]
    bulk.rows_insert(AgentStateLog, rows)
    bulk.open_intervals_end({floor_a.agent.pk: T0 + timedelta(seconds=9), other.pk: T0})
    ended = AgentStateLog.objects.filter(agent__in=[floor_a.agent, other]).order_by(
        "agent", "state"
    )
    assert [(r.agent_id, r.state, r.ended_at) for r in ended] == sorted(
        [
            (floor_a.agent.pk, AgentState.AVAILABLE, T0 + timedelta(seconds=1)),
            (floor_a.agent.pk, AgentState.PAUSED, T0 + timedelta(seconds=9)),
            (other.pk, AgentState.AVAILABLE, T0),
        ],
        key=lambda r: (r[0], r[1]),
    )


@pytest.mark.django_db(transaction=True)
def test_a_temporary_table_lost_to_a_rollback_is_made_again(floor_a: Floor) -> None:
    from django.db import connection, transaction

    class Refused(Exception):
        pass

    with connection.cursor() as cursor:  # as on a new connection
        cursor.execute("DROP TABLE IF EXISTS _cc_timeline_in")

    call = _call(floor_a, "3.1")
    bulk.calls_insert([call])
    org = floor_a.org.pk
    # The first use on this connection creates the table, inside a transaction that
    # rolls back and takes the table with it.
    with pytest.raises(Refused), transaction.atomic():
        bulk.timeline_insert([(org, call.pk, "queue.joined", T0, None, {}, "r1", False)])
        raise Refused
    for key in ("r2", "r3"):  # and again in the next transactions
        with transaction.atomic():
            bulk.timeline_insert([(org, call.pk, "queue.joined", T0, None, {}, key, False)])
    keys = set(CallEvent.objects.filter(call_id=call.pk).values_list("dedup_key", flat=True))
    assert keys == {"r2", "r3"}


def test_rows_update_writes_the_fields_given_nulls_and_flags_included(floor_a: Floor) -> None:
    from contactcenter.models import Agent, QueueMembership

    queue = make_queue(floor_a.org, "support")
    member = QueueMembership.objects.create(
        organization=floor_a.org, queue=queue, agent=floor_a.agent, paused=True, paused_at=T0
    )
    member.paused, member.paused_at, member.paused_reason = False, None, ""
    member.is_logged_in, member.calls_taken = True, 7
    agent, other = floor_a.agent, floor_a.other_agent
    agent.state, agent.state_reason, agent.state_changed_at = AgentState.PAUSED, "lunch", T0
    other.state, other.device_state = AgentState.AVAILABLE, "NOT_INUSE"
    other.name = "not written"  # a field that is not listed stays as stored
    fields = ["is_logged_in", "paused", "paused_reason", "paused_at", "calls_taken"]
    bulk.rows_update(QueueMembership, [member], fields)
    bulk.rows_update(
        Agent, [agent, other], ["state", "state_reason", "state_changed_at", "device_state"]
    )
    stored = QueueMembership.objects.get(pk=member.pk)
    assert (stored.paused, stored.paused_at, stored.is_logged_in, stored.calls_taken) == (
        False,
        None,
        True,
        7,
    )
    first, second = Agent.objects.get(pk=agent.pk), Agent.objects.get(pk=other.pk)
    assert (first.state, first.state_reason, first.state_changed_at) == (
        AgentState.PAUSED,
        "lunch",
        T0,
    )
    assert (second.state, second.device_state) == (AgentState.AVAILABLE, "NOT_INUSE")
    assert second.name != "not written"


def test_held_writes_go_in_order_and_ahead_of_the_next_read(floor_a: Floor) -> None:
    """Inside ``together`` the writes are held; a read (or a COPY) takes them along,
    ahead of it and in the order they were made: the interval ended here is the one
    open before, not the one inserted after it."""
    from django.db import connection

    AgentStateLog.objects.filter(agent=floor_a.agent).delete()

    def interval(state: str, start: float) -> AgentStateLog:
        started = T0 + timedelta(seconds=start)
        return AgentStateLog(
            organization_id=floor_a.org.pk, agent=floor_a.agent, state=state, started_at=started
        )

    sent: list[str] = []

    def note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        return execute(sql, params, many, context)

    with round_trips() as wire, roundtrips.together(), connection.execute_wrapper(note):
        bulk.rows_insert(AgentStateLog, [interval(AgentState.AVAILABLE, 0)])
        bulk.open_intervals_end({floor_a.agent.pk: T0 + timedelta(seconds=4)})
        bulk.rows_insert(AgentStateLog, [interval(AgentState.PAUSED, 4)])
        bulk.rows_update(Call, [], ["status"])  # nothing to write: nothing held
        stored = list(
            AgentStateLog.objects.filter(agent=floor_a.agent)
            .order_by("started_at")
            .values_list("state", "ended_at")
        )
        bulk.open_intervals_end({floor_a.agent.pk: T0 + timedelta(seconds=9)})
    assert stored == [
        (AgentState.AVAILABLE, T0 + timedelta(seconds=4)),
        (AgentState.PAUSED, None),
    ]
    # And what was held at the end is sent as the block closes.
    assert AgentStateLog.objects.get(agent=floor_a.agent, state=AgentState.PAUSED).ended_at == (
        T0 + timedelta(seconds=9)
    )
    if connection.vendor == "postgresql" and bulk.SMALL_BATCH:
        # The three writes and the read in one round trip, the read last; the last
        # write as ``together`` closes (after ``note``), in a second one.
        assert wire.count == 2
        assert len(sent) == 1
        # A write's text is prepared the first time this connection meets it
        # (config.db.prepared): its PREPARE rides in the same round trip.
        *writes, read = (s for s in sent[0].split(";\n") if not s.startswith("PREPARE "))
        assert len(writes) == 3 and read.startswith("SELECT")
    elif connection.vendor == "postgresql":  # COPY: each write's rows, then the statement
        assert wire.count > 2
