"""The ASGI entry point: the only way the server runs (``daphne config.asgi:application``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

import gc  # noqa: E402

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.signals import request_finished  # noqa: E402
from django.db import connections  # noqa: E402


def _close_request_connections(**kwargs: object) -> None:
    """Under ASGI Django runs each HTTP request's sync code in a thread of its own, so
    a kept connection (DATABASE_CONN_MAX_AGE) would stay behind with every request's
    thread: at 16 concurrent requests one server process reached PostgreSQL's
    max_connections ("too many clients", docs/benchmarks.md). Close them as the request
    ends (its thread). WebSocket consumers are not requests: their one database thread
    keeps its connection, as a process-wide setting of 0 would not (it reconnected on
    every database call). A connection inside a transaction is left alone: a request
    never ends inside one in the server, a test case's request does."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


request_finished.connect(_close_request_connections, dispatch_uid="close-request-connections")

from config.proxy import TrustedProxyMiddleware  # noqa: E402
from realtime.auth import realtime_auth_stack  # noqa: E402
from realtime.routing import no_such_stream, websocket_urlpatterns  # noqa: E402

# The client's address first (config/proxy.py: the one rule for X-Forwarded-For), so
# REMOTE_ADDR and the consumers' scope hold the same address.
application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # Origin, then cookie, session and user (or ticket); the consumers check roles.
            "websocket": realtime_auth_stack(URLRouter([*websocket_urlpatterns, no_such_stream])),
        }
    )
)


def _tune_garbage_collector() -> None:
    """A server process holds thousands of long-lived connections (1.3 M objects at
    thousands of wallboards), and Python's full collection walks them all with the
    event loop stopped, every time the objects surviving into the oldest generation grew
    by a quarter, which broadcasts did now and then (docs/benchmarks.md: the figures the
    code's comments rest on). What exists
    at startup (Django, the app) is frozen out of collection for good; the young
    generation is collected every 50,000 allocations instead of 700, so a broadcast's
    short-lived objects die before they are promoted, and a full collection waits for
    100 middle ones (at most one in about 100 M allocations). Cyclic garbage that did
    reach the old generation waits that long to be freed. SERVER_GC_THRESHOLDS="" keeps
    Python's defaults."""
    gc.freeze()
    if settings.SERVER_GC_THRESHOLDS:
        gc.set_threshold(*settings.SERVER_GC_THRESHOLDS)


_tune_garbage_collector()
