from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from realtime import presence, sockets


@pytest.fixture(autouse=True)
def realtime_settings(settings: Any) -> Iterator[None]:
    """The in-memory channel layer and process-local presence, with short timers.

    Tests on channels-redis override these again (test_redis.py).
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REALTIME_PRESENCE_URL = ""
    settings.REALTIME_PRESENCE_GRACE_SECONDS = 0.05
    settings.REALTIME_COALESCE_MS = 100
    settings.REALTIME_CONSOLE_COALESCE_MS = 100
    settings.REALTIME_PBX_TIMEOUT_SECONDS = 2
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    presence.reset_memory()
    sockets.reset_memory()
    yield
    presence.reset_memory()
    sockets.reset_memory()


@pytest.fixture
def desk(floor_a: Any) -> Any:
    """Floor A with a "support" queue both its agents are members of."""
    from contactcenter.models import QueueMembership
    from tests.factories import make_queue

    queue = make_queue(floor_a.org, "support")
    for agent in (floor_a.agent, floor_a.other_agent):
        QueueMembership.objects.create(organization=floor_a.org, queue=queue, agent=agent)
    floor_a.queue = queue
    return floor_a
