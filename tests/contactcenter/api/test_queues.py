"""A queue's maximum wait and what happens then (docs/twilio.md): written by admins,
the queue it sends callers to one of the same organization and not itself."""

import pytest

from contactcenter.enums import QueueMaxWaitAction
from contactcenter.models import CallQueue
from tests.conftest import Floor, client_for
from tests.factories import make_queue

pytestmark = pytest.mark.django_db


def test_the_maximum_wait_sends_callers_to_another_queue_of_the_organization(
    floor_a: Floor,
) -> None:
    support, overflow = make_queue(floor_a.org, "support"), make_queue(floor_a.org, "overflow")
    payload = {
        "max_wait_seconds": 120,
        "max_wait_action": "queue",
        "max_wait_queue": overflow.pk,
        "leave_empty": True,
    }
    url = f"/api/v1/queues/{support.pk}/"
    assert client_for(floor_a.supervisor).patch(url, payload, format="json").status_code == 403
    resp = client_for(floor_a.admin).patch(url, payload, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json() | payload == resp.json()
    support.refresh_from_db()
    assert (support.max_wait_action, support.max_wait_queue_id, support.leave_empty) == (
        QueueMaxWaitAction.QUEUE,
        overflow.pk,
        True,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"max_wait_action": "queue"},  # to no queue
        {"max_wait_action": "queue", "max_wait_queue": "self"},
        {"max_wait_action": "queue", "max_wait_queue": "other organization"},
        {"max_wait_action": "elsewhere"},
        {"max_wait_message": "x" * 301},
    ],
)
def test_a_maximum_wait_that_goes_nowhere_is_400_and_changes_nothing(
    floor_a: Floor, floor_b: Floor, change: dict[str, object]
) -> None:
    support = make_queue(floor_a.org, "support")
    theirs = make_queue(floor_b.org, "theirs")
    targets = {"self": support.pk, "other organization": theirs.pk}
    if "max_wait_queue" in change:
        change = change | {"max_wait_queue": targets[str(change["max_wait_queue"])]}
    url = f"/api/v1/queues/{support.pk}/"
    resp = client_for(floor_a.admin).patch(url, change, format="json")
    assert resp.status_code == 400, resp.content
    assert all(error["attr"] for error in resp.json()["errors"])
    fresh = CallQueue.objects.get(pk=support.pk)
    assert (fresh.max_wait_action, fresh.max_wait_queue_id) == (QueueMaxWaitAction.STAY, None)
