"""Which recording policy applies to a call: its queue's, else its organization's, read
with the screens' calls (``with_last_entry``) or alone, and what the call's message says
of it (``recording_on_demand``: the card offers "Start recording")."""

from __future__ import annotations

import pytest

from contactcenter.enums import RecordingPolicy
from contactcenter.models import Call, CallQueue, Organization
from contactcenter.selectors.recordings import call_recording_policy
from contactcenter.selectors.screen_calls import with_last_entry
from realtime.screens.render import call_view
from tests.conftest import Floor
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db


def _policies(org: Organization, *calls: Call) -> tuple[list[str], list[str], list[bool]]:
    read = {c.pk: c for c in with_last_entry(Call.objects.filter(organization=org))}
    alone = [Call.objects.get(pk=c.pk) for c in calls]
    return (
        [read[c.pk].recording_policy for c in calls],  # type: ignore[attr-defined]
        [call_recording_policy(call=c) for c in alone],
        [call_view(read[c.pk]).recording_on_demand for c in calls],
    )


def test_a_queue_policy_wins_over_the_organization_and_blank_is_the_organization(
    floor_a: Floor,
) -> None:
    org = floor_a.org
    Organization.objects.filter(pk=org.pk).update(recording_policy=RecordingPolicy.ON_DEMAND)
    own = make_queue(org, "sales")
    CallQueue.objects.filter(pk=own.pk).update(recording_policy=RecordingPolicy.NONE)
    blank = make_queue(org, "support")
    in_own = make_call(org, queue=own)
    in_blank = make_call(org, queue=blank)
    no_queue = make_call(org)

    annotated, alone, on_demand = _policies(org, in_own, in_blank, no_queue)

    expected = [RecordingPolicy.NONE, RecordingPolicy.ON_DEMAND, RecordingPolicy.ON_DEMAND]
    assert annotated == expected
    assert alone == expected
    assert on_demand == [False, True, True]


def test_a_queue_on_demand_in_an_organization_that_records_all(floor_a: Floor) -> None:
    org = floor_a.org
    Organization.objects.filter(pk=org.pk).update(recording_policy=RecordingPolicy.ALL)
    queue = make_queue(org, "sales")
    CallQueue.objects.filter(pk=queue.pk).update(recording_policy=RecordingPolicy.ON_DEMAND)
    in_queue = make_call(org, queue=queue)
    no_queue = make_call(org)

    annotated, alone, on_demand = _policies(org, in_queue, no_queue)

    assert annotated == alone == [RecordingPolicy.ON_DEMAND, RecordingPolicy.ALL]
    assert on_demand == [True, False]
