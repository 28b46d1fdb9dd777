"""Publishing after commit: the data is committed whatever the channel layer does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from contactcenter import notify
from contactcenter.models import Call
from contactcenter.services.calls import call_update_notes
from tests.conftest import Floor
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_channel_layer_that_is_down_is_logged_not_raised(
    floor_a: Floor, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every publish fails to connect.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    queue = make_queue(floor_a.org)  # its wallboards are told, whoever is online
    call = make_call(floor_a.org, agent=floor_a.agent, queue=queue)
    with transaction.atomic():
        call_update_notes(call=call, notes="kept", actor=None)
        notify.changes_committed(
            organization_id=floor_a.org.pk, call_ids=[call.pk], queue_ids=[queue.pk]
        )
    assert Call.objects.get(pk=call.pk).notes == "kept"
    failures = [r for r in caplog.records if "in on_commit()" in r.getMessage()]
    # Logged by the publisher's name (a functools.partial made the logging itself raise).
    assert len(failures) == 1
    assert "_publish_changes" in failures[0].getMessage()
