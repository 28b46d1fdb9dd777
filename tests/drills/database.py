"""The bridge cut off from PostgreSQL and let back in, for the drills: new connections
refused on the database, the bridge's own ended.
"""

from __future__ import annotations

from django.db import connection

from tests.conftest import admin_session


def allow_connections(allowed: bool) -> None:
    # PostgreSQL refuses this from a session on the database itself: use the maintenance one.
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with admin_session("postgres") as admin:
        admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {str(allowed).lower()}")


def cut_connections(application_name: str) -> int:
    """Refuse new connections and end the bridge's; how many were ended."""
    allow_connections(False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s"
            " AND pid <> pg_backend_pid()",
            [application_name],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
