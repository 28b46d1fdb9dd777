"""A ring-all Twilio queue: every free member rings at once, in one <Dial>; the first to
answer takes the caller, the others are free again; nobody answering puts the caller
back in line. Signed webhooks in, REST calls out to the fake API, PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcenter.enums import CallEventType, CallStatus, QueueStrategy
from contactcenter.models import AuditEntry, Call, CallEvent, QueueMembership
from contactcenter.selectors.wallboard import figures_by_queue
from telephony.models import OfferStatus, TwilioOffer
from tests.conftest import Floor
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.twilioside import Ring

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("public_url")]


def who(f: RoutedFloor, rings: list[Ring]) -> list[str]:
    return sorted(f.by_identity(r.identity).name for r in rings)


def test_every_free_member_rings_at_once_and_the_first_to_answer_takes_the_caller(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.RINGALL)
    a, b, c = f.agents
    f.available(a, b, c)
    sid = f.twilio.caller_arrives(1)
    second = f.twilio.caller_arrives(2)
    rings = f.twilio.rings()
    # One <Dial> of the three clients, for the first caller; the second waits.
    assert len(twilio_api.updates) == 1
    assert {r.call for r in rings} == {sid}
    assert who(f, rings) == sorted(x.name for x in (a, b, c))
    assert {r.action_path for r in rings} == {rings[0].action_path}
    offers = TwilioOffer.objects.filter(call__external_id=sid)
    assert {(o.agent_id, o.status, o.ring_all) for o in offers} == {
        (x.pk, OfferStatus.RINGING, True) for x in (a, b, c)
    }

    winner = next(r for r in rings if r.identity == b.twilio_identity)
    f.twilio.answer(winner)
    for ring in rings:
        if ring is not winner:
            f.twilio.canceled(ring)
    by_agent = {o.agent_id: o.status for o in offers.all()}
    assert by_agent == {
        a.pk: OfferStatus.CANCELED,
        b.pk: OfferStatus.CONNECTED,
        c.pk: OfferStatus.CANCELED,
    }
    # The two who did not answer are free at once: the second caller rings them both.
    again = f.twilio.rings()
    assert {r.call for r in again} == {second}
    assert who(f, again) == sorted([a.name, c.name])

    f.twilio.hang_up(winner, talk=12)
    call = Call.objects.get(external_id=sid)
    assert call.agent_id == b.pk and call.status == CallStatus.COMPLETED
    assert call.answered_at is not None and call.ended_at is not None
    assert CallEvent.objects.filter(call=call, type=CallEventType.ANSWERED).count() == 1
    completed = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_COMPLETED)
    assert list(completed.values_list("agent_id", flat=True)) == [b.pk]
    assert offers.get(agent=b).status == OfferStatus.DONE
    # The timeline: all three rung, the two others' rings ended (canceled), not missed.
    rung = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_CALLED)
    assert sorted(rung.values_list("agent_id", flat=True)) == sorted([a.pk, b.pk, c.pk])
    ended = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_OFFER_ENDED)
    assert sorted(ended.values_list("agent_id", flat=True)) == sorted([a.pk, c.pk])
    assert {e.details["outcome"] for e in ended} == {"canceled"}
    assert not CallEvent.objects.filter(call=call, type=CallEventType.AGENT_RING_NO_ANSWER)
    # The wallboard counts one call offered and answered.
    [row] = figures_by_queue(organization=floor_a.org, queue_ids=[f.queue.pk])
    assert (row.answered, row.abandoned) == (1, 0)
    # The decision is in the audit trail, on the call, with why.
    entry = AuditEntry.objects.get(action="routing.offer", object_id=str(call.pk))
    assert sorted(entry.details["agents"]) == sorted([a.pk, b.pk, c.pk])
    assert entry.details["ring_all"] is True and "ringall" in entry.details["why"]


def test_nobody_answers_every_member_missed_it_and_the_caller_rings_them_again(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RINGALL)
    a, b = f.agents
    f.available(a, b)
    sid = f.twilio.caller_arrives(1)
    rings = f.twilio.rings()
    assert who(f, rings) == sorted([a.name, b.name])
    f.twilio.nobody_answers(rings)
    call = Call.objects.get(external_id=sid)
    missed = CallEvent.objects.filter(call=call, type=CallEventType.AGENT_RING_NO_ANSWER)
    assert sorted(missed.values_list("agent_id", flat=True)) == sorted([a.pk, b.pk])
    # retry_seconds is 0 here: both ring again at once, for the same caller.
    again = f.twilio.rings()
    assert {r.call for r in again} == {sid} and who(f, again) == sorted([a.name, b.name])
    statuses = TwilioOffer.objects.filter(call=call).order_by("pk").values_list("status", flat=True)
    assert list(statuses) == [OfferStatus.MISSED] * 2 + [OfferStatus.RINGING] * 2
    assert call.status == CallStatus.QUEUED or call.answered_at is None


def test_an_agent_who_rejects_is_free_for_the_next_caller_while_the_others_ring(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RINGALL)
    a, b = f.agents
    f.available(a, b)
    first = f.twilio.caller_arrives(1)
    second = f.twilio.caller_arrives(2)
    rings = f.twilio.rings()
    assert {r.call for r in rings} == {first}
    refused = next(r for r in rings if r.identity == a.twilio_identity)
    f.twilio.rejects(refused)
    offer = TwilioOffer.objects.get(call__external_id=first, agent=a)
    assert offer.status == OfferStatus.MISSED
    # A is offered the second caller; B still rings with the first.
    [next_ring] = f.twilio.rings()
    assert (next_ring.call, next_ring.identity) == (second, a.twilio_identity)
    assert TwilioOffer.objects.get(call__external_id=first, agent=b).status == (OfferStatus.RINGING)
    f.twilio.answer(next(r for r in rings if r is not refused))
    assert Call.objects.get(external_id=first).agent_id == b.pk


def test_only_the_lowest_penalty_tier_rings(floor_a: Floor, twilio_api: FakeTwilioAPI) -> None:
    f = routed_floor(floor_a, twilio_api, agents=3, strategy=QueueStrategy.RINGALL)
    a, b, c = f.agents
    QueueMembership.objects.filter(agent=c).update(penalty=1)
    f.available(a, b, c)
    f.twilio.caller_arrives(1)
    assert who(f, f.twilio.rings()) == sorted([a.name, b.name])


def test_the_database_refuses_a_second_connected_agent_for_one_caller(
    floor_a: Floor, twilio_api: FakeTwilioAPI
) -> None:
    f = routed_floor(floor_a, twilio_api, agents=2, strategy=QueueStrategy.RINGALL)
    a, b = f.agents
    f.available(a, b)
    sid = f.twilio.caller_arrives(1)
    f.twilio.rings()
    call = Call.objects.get(external_id=sid)
    TwilioOffer.objects.filter(call=call, agent=a).update(status=OfferStatus.CONNECTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        TwilioOffer.objects.filter(call=call, agent=b).update(status=OfferStatus.CONNECTED)
    # Nor a second offer of the caller to an agent already rung.
    with pytest.raises(IntegrityError), transaction.atomic():
        TwilioOffer.objects.create(
            organization=floor_a.org,
            call=call,
            agent=b,
            queue=f.queue,
            status=OfferStatus.CLAIMED,
            ring_all=True,
            created_at=timezone.now(),
        )
