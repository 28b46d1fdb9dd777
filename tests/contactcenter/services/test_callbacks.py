"""contactcenter.services.callbacks.callback_schedule with a call: a caller who asked
while waiting is marked (timeline entry once, and the call ends as ``callback``, not
abandoned); a callback made of a call afterwards (a voicemail's) leaves it as it ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contactcenter.enums import CallEventType, CallStatus
from contactcenter.models import Call, CallEvent
from contactcenter.services.callbacks import callback_schedule
from contactcenter.services.telephony.derive import derive_status
from tests.conftest import Floor
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db


def _abandoned_call(floor: Floor) -> Call:
    queue = make_queue(floor.org)
    call = make_call(floor.org, queue=queue, status=CallStatus.QUEUED)
    call.queued_at = call.started_at + timedelta(seconds=2)
    call.save(update_fields=["queued_at"])
    return call


def _end(call: Call) -> Call:
    """The call ends unanswered in its queue, as the PBX facts' apply would derive it."""
    call.refresh_from_db()
    call.ended_at = call.abandoned_at = call.started_at + timedelta(seconds=60)
    call.status = derive_status(call)
    call.save(update_fields=["ended_at", "abandoned_at", "status"])
    return call


def test_a_caller_who_asked_while_waiting_ends_as_a_callback_not_an_abandon(
    floor_a: Floor,
) -> None:
    call = _abandoned_call(floor_a)
    assert call.queue is not None
    first = callback_schedule(queue=call.queue, number="+15557650001", call=call)
    again = callback_schedule(queue=call.queue, number="+15557650001", call=call)
    assert again.pk == first.pk and first.place_at == call.queued_at
    assert _end(call).status == CallStatus.CALLBACK
    entries = CallEvent.objects.filter(call=call, type=CallEventType.CALLBACK_REQUESTED)
    assert [e.details for e in entries] == [{"callback": first.pk, "number": "+15557650001"}]


def test_a_callback_made_of_an_ended_call_leaves_it_as_it_ended(floor_a: Floor) -> None:
    call = _end(_abandoned_call(floor_a))
    assert call.status == CallStatus.ABANDONED and call.queue is not None
    callback_schedule(queue=call.queue, number="+15557650001", call=call, asked_while_waiting=False)
    call.refresh_from_db()
    assert call.status == CallStatus.ABANDONED
    assert not CallEvent.objects.filter(call=call).exists()


def test_asking_after_the_call_ended_in_the_same_batch_still_counts(floor_a: Floor) -> None:
    # The key press and the hang-up can be applied together: the call is ended already
    # when its callback is kept, and it is a callback call all the same.
    call = _end(_abandoned_call(floor_a))
    assert call.queue is not None
    callback_schedule(queue=call.queue, number="+15557650001", call=call)
    call.refresh_from_db()
    assert call.status == CallStatus.CALLBACK
