"""contactcenter.publish: ids handed to the installed sink once the change commits;
nothing for a change that rolls back; nothing at all, not even a callback, with no sink;
a sink that fails never fails the change nor the callbacks after it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.db import connection, transaction

from contactcenter import publish
from contactcenter.models import Call
from contactcenter.services.calls import call_update_notes
from tests.conftest import Floor
from tests.factories import make_call

pytestmark = pytest.mark.django_db(transaction=True)


class RecordingSink:
    """Keeps what it is handed, in order (a real sink renders and sends it)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def changes(self, *args: Any) -> None:
        self.seen.append(("changes", *args))

    def agent_state_changed(self, *args: Any) -> None:
        self.seen.append(("agent_state_changed", *args))

    def case_created(self, *args: Any) -> None:
        self.seen.append(("case_created", *args))

    def notification_created(self, *args: Any) -> None:
        self.seen.append(("notification_created", *args))

    def notification_read(self, *args: Any) -> None:
        self.seen.append(("notification_read", *args))

    def sessions_revoked(self, *args: Any) -> None:
        self.seen.append(("sessions_revoked", *args))

    def floor_changed(self, *args: Any) -> None:
        self.seen.append(("floor_changed", *args))

    async def start_background(self) -> None:
        self.seen.append(("start_background",))

    async def stop_background(self) -> None:
        self.seen.append(("stop_background",))


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    installed = publish._sink
    recording = RecordingSink()
    publish.install(recording)
    yield recording
    publish.install(installed)


def test_the_ids_reach_the_sink_after_commit_and_not_before(
    floor_a: Floor, sink: RecordingSink
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    at = datetime(2026, 1, 2, 3, 4, 5)
    with transaction.atomic():
        publish.calls_changed(
            organization_id=floor_a.org.pk, call_ids=[call.pk, call.pk], queue_ids={7}
        )
        publish.call_edited(organization_id=floor_a.org.pk, call_id=call.pk)
        publish.agent_state_changed(organization_id=floor_a.org.pk, agent_id=floor_a.agent.pk)
        publish.case_created(case_id=11)
        publish.notification_created(notification_id=12)
        publish.notification_read(user_id=13, notification_id=12, read_at=at)
        publish.sessions_revoked(user_ids=[14, 15])
        assert sink.seen == []  # nothing before the commit
    org, none = floor_a.org.pk, frozenset[int]()
    assert sink.seen == [
        ("changes", org, frozenset({call.pk}), none, frozenset({7}), False),
        ("changes", org, frozenset({call.pk}), none, none, True),
        ("agent_state_changed", org, floor_a.agent.pk),
        ("case_created", 11),
        ("notification_created", 12),
        ("notification_read", 13, 12, at),
        ("sessions_revoked", frozenset({14, 15})),
    ]


def test_a_change_that_rolls_back_publishes_nothing(floor_a: Floor, sink: RecordingSink) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    with pytest.raises(RuntimeError), transaction.atomic():
        call_update_notes(call=call, notes="never", actor=None)
        raise RuntimeError("the change fails after its publish was queued")
    assert sink.seen == []
    assert Call.objects.get(pk=call.pk).notes != "never"


def test_with_no_sink_nothing_is_queued(floor_a: Floor) -> None:
    installed = publish._sink
    publish.install(None)
    try:
        call = make_call(floor_a.org, agent=floor_a.agent)
        with transaction.atomic():
            call_update_notes(call=call, notes="quiet", actor=None)
            queued = [f for _, f, _ in connection.run_on_commit if "publish." in f.__qualname__]
            assert queued == []
    finally:
        publish.install(installed)
    assert Call.objects.get(pk=call.pk).notes == "quiet"


def test_a_failing_sink_is_logged_and_the_callbacks_after_it_still_run(
    floor_a: Floor, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> None:
        raise ConnectionError("the screens are away")

    sink.case_created = broken  # type: ignore[method-assign]
    with transaction.atomic():
        publish.case_created(case_id=1)
        publish.notification_created(notification_id=2)
    assert sink.seen == [("notification_created", 2)]
    (failure,) = [r for r in caplog.records if "in on_commit()" in r.getMessage()]
    assert "publish.case_created" in failure.getMessage()
