"""The order in which a telephony batch takes its locks: its calls, then its agents.

A disposition's case is created under its call's lock with the call's agent as a
foreign key, and that takes a KEY SHARE lock on the agent row, which conflicts with the
batch's ``FOR UPDATE`` on it. A batch that locked its agents before its calls would
deadlock with that transaction; one that waits for the call first holds nothing the
other needs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import connection

from contactcenter import facts as te
from contactcenter.models import Call
from contactcenter.services.telephony import telephony_apply
from tests.conftest import Floor, admin_session
from tests.contactcenter.telephony_calls import answered_call, at
from tests.factories import make_queue

pytestmark = pytest.mark.django_db(transaction=True)


def _until_one_waits_for_a_lock(session: psycopg.Connection[Any], deadline: float) -> None:
    while time.monotonic() < deadline:
        row = session.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if row and row[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the batch never waited for the call's lock")


def test_a_batch_waits_for_its_call_before_it_locks_an_agent(floor_a: Floor) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    make_queue(floor_a.org, "support")
    iface = floor_a.agent.interface
    events = answered_call(iface)
    org = floor_a.org.pk
    telephony_apply(organization_id=org, connection_key="asterisk:1", events=events[:3])
    call = Call.objects.get()
    ringing = te.AgentMemberState(agent=iface, queue="support", at=at(6.3), device="in_use")
    failures: list[BaseException] = []

    def the_batch() -> None:
        try:
            telephony_apply(
                organization_id=org, connection_key="asterisk:1", events=[*events[3:], ringing]
            )
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
        finally:
            connection.close()

    with admin_session() as other, admin_session() as watcher:
        # The disposition task's transaction: its call locked, then the call's agent
        # referenced (the KEY SHARE lock a foreign key takes), bounded by a timeout.
        other.execute("BEGIN")
        other.execute("SELECT id FROM contactcenter_call WHERE id = %s FOR UPDATE", [call.pk])
        batch = threading.Thread(target=the_batch)
        batch.start()
        _until_one_waits_for_a_lock(watcher, time.monotonic() + 10)
        other.execute("SET LOCAL lock_timeout = '5s'")
        other.execute(
            "SELECT id FROM contactcenter_agent WHERE id = %s FOR KEY SHARE", [floor_a.agent.pk]
        )
        other.execute("COMMIT")
        batch.join(10)
    assert not batch.is_alive()
    assert failures == []
    call.refresh_from_db()
    floor_a.agent.refresh_from_db()
    assert (call.status, call.agent_id) == ("completed", floor_a.agent.pk)
    assert floor_a.agent.state == "on_call"
