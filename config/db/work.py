"""Units of database work in the long-running loops: the bridge's writer, the rendering
worker (realtime.render_worker).

Django's ``CONN_HEALTH_CHECKS`` pings a kept connection (``SELECT 1``) before each
unit of work: a round trip per batch written and per batch rendered, on the path from
the PBX to the screens. These loops notice a broken connection by the work failing
instead, and try it once more on a new connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections, connection

T = TypeVar("T")

# A connection that broke, or a database that cannot be reached.
BROKEN = (OperationalError, InterfaceError)


def run_retrying(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` on this thread's connection, which is dropped first if it aged
    out (``CONN_MAX_AGE``) or failed. A kept connection that broke while idle (the
    database restarted) fails the work once: it is closed and the work runs once more on
    a new one; a second failure (the database is down) is raised. ``work`` must be safe
    to run twice: a transaction, or reads."""
    close_old_connections()
    # Reset on each connect, from CONN_HEALTH_CHECKS (not in the type stubs).
    connection.health_check_enabled = False  # type: ignore[attr-defined]
    kept = connection.connection is not None
    try:
        return work(*args)
    except BROKEN:
        connection.close()
        if not kept:
            raise
    return work(*args)
