"""Who the wallboard counts as waiting, from the PBX's facts applied as the bridge applies
them (telephony_apply): a caller who pressed 1 for a callback is out of the line at
once, though their call lasts until the goodbye; a caller moved to another queue waits
there (the record, and the offered figures, keep the queue they joined), whatever order
the facts come in; the figures equal the oracle's from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contactcenter import facts as te
from contactcenter.enums import CallDirection
from contactcenter.models import Call, CallQueue, Organization
from contactcenter.selectors.wallboard import figures_by_queue, wallboard
from contactcenter.services.telephony import telephony_apply
from tests.contactcenter.wallboard_figures import assert_board
from tests.factories import make_org, make_queue

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 14, 15, 0, 0, tzinfo=UTC)
KEY = "1741964400.7"
PBX = "asterisk:1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def apply(org: Organization, *facts: te.Fact) -> None:
    telephony_apply(organization_id=org.pk, connection_key=PBX, events=list(facts))


def started(n: int = 0) -> list[te.Fact]:
    return [
        te.CallStarted(
            call_key=KEY,
            at=at(0),
            dedup_key="s",
            direction=CallDirection.INBOUND,
            caller_number="+15557654321",
        ),
        te.QueueJoined(call_key=KEY, at=at(1), dedup_key="j1", queue="support", position=1),
    ]


def waiting(org: Organization, now: datetime) -> dict[str, tuple[int, int | None, int]]:
    """Per queue: callers waiting, the longest wait, offered today."""
    return {
        row.queue_name: (row.callers_waiting, row.longest_wait_seconds, row.offered)
        for row in figures_by_queue(organization=org, now=now)
    }


@pytest.fixture
def org() -> Organization:
    org = make_org("Waits", time_zone="UTC")
    make_queue(org, "support")
    make_queue(org, "billing")
    return org


def test_a_caller_who_pressed_1_is_out_of_the_line_before_their_call_ends(
    org: Organization,
) -> None:
    apply(org, *started())
    assert waiting(org, at(20))["Support"] == (1, 19, 1)
    # app_queue lets the caller go (QueueCallerLeave); the dialplan raises the request.
    apply(
        org,
        te.QueueLeft(call_key=KEY, at=at(20), dedup_key="l1", queue="support"),
        te.CallbackRequested(
            call_key=KEY, at=at(30), dedup_key="cb", queue="support", number="+15557654321"
        ),
    )
    call = Call.objects.get(external_id=KEY)
    assert call.ended_at is None  # the goodbye still plays
    [row] = [r for r in figures_by_queue(organization=org, now=at(31)) if r.queue_name == "Support"]
    assert (row.callers_waiting, row.longest_wait_seconds) == (0, None)
    assert (row.callbacks_waiting, row.offered) == (1, 1)
    assert_board(org, at(31))
    apply(org, te.CallEnded(call_key=KEY, at=at(35), dedup_key="e"))
    assert waiting(org, at(36))["Support"] == (0, None, 1)
    assert_board(org, at(36))


def test_a_caller_moved_to_another_queue_waits_there_and_counts_offered_where_they_joined(
    org: Organization,
) -> None:
    apply(org, *started())
    # A supervisor's move-to-queue: the Redirect takes the caller out of support into
    # billing (QueueCallerLeave, then QueueCallerJoin of billing).
    apply(
        org,
        te.QueueLeft(call_key=KEY, at=at(40), dedup_key="l1", queue="support"),
        te.QueueJoined(call_key=KEY, at=at(41), dedup_key="j2", queue="billing", position=1),
    )
    call = Call.objects.get(external_id=KEY)
    assert call.queue is not None and call.queue.pbx_queue_name == "support"
    # Waiting in billing since joining support (the caller's whole wait), offered in support.
    assert waiting(org, at(60)) == {"Billing": (1, 59, 0), "Support": (0, None, 1)}
    board = wallboard(organization=org, now=at(60))
    assert (board.totals.callers_waiting, board.totals.longest_wait_seconds) == (1, 59)
    assert (board.totals.offered, board.totals.callers_waiting) == (1, 1)
    assert_board(org, at(60))
    billing = CallQueue.objects.get(organization=org, pbx_queue_name="billing")
    assert_board(org, at(60), queue_ids=[billing.pk])
    # Moved back, then the billing join re-delivered late: the latest join wins.
    apply(org, te.QueueJoined(call_key=KEY, at=at(70), dedup_key="j3", queue="support"))
    apply(org, te.QueueJoined(call_key=KEY, at=at(41), dedup_key="j2-again", queue="billing"))
    assert waiting(org, at(80)) == {"Billing": (0, None, 0), "Support": (1, 79, 1)}
    assert_board(org, at(80))
    # Answered in support: nobody waits anywhere.
    apply(org, te.CallAnswered(call_key=KEY, at=at(90), dedup_key="a", agent=""))
    assert waiting(org, at(91)) == {"Billing": (0, None, 0), "Support": (0, None, 1)}


def test_the_facts_in_another_order_count_the_same(org: Organization) -> None:
    # The join of billing before the leave of support (two AMI threads), and the first
    # join last: billing it is.
    apply(
        org,
        started()[0],
        te.QueueJoined(call_key=KEY, at=at(41), dedup_key="j2", queue="billing"),
    )
    # The record's queue is the first join applied: billing here, and the later
    # support join (older) moves nobody.
    apply(
        org,
        te.QueueLeft(call_key=KEY, at=at(40), dedup_key="l1", queue="support"),
        te.QueueJoined(call_key=KEY, at=at(1), dedup_key="j1", queue="support"),
    )
    assert waiting(org, at(60))["Billing"][0] == 1
    assert waiting(org, at(60))["Support"][0] == 0
    assert_board(org, at(60))


def test_a_moved_caller_of_another_organization_never_counts(org: Organization) -> None:
    other = make_org("Other", time_zone="UTC")
    make_queue(other, "support")
    apply(other, *started())
    call = Call.objects.get(organization=other, external_id=KEY)
    # A corrupt flag naming this organization's queue: still the other's caller.
    billing = CallQueue.objects.get(organization=org, pbx_queue_name="billing")
    Call.objects.filter(pk=call.pk).update(flags={"waiting_in": billing.pk, "waiting_in_at": 0})
    assert waiting(org, at(60)) == {"Billing": (0, None, 0), "Support": (0, None, 0)}
    assert_board(org, at(60))
