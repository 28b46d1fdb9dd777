"""The database: PostgreSQL from ``DATABASE_URL``, else SQLite under ``VAR_DIR``."""

from __future__ import annotations

import dj_database_url

from config.env import env_bool, env_int, env_str
from config.settings_parts.core import VAR_DIR

DATABASE_URL = env_str("DATABASE_URL")
# The hot reads and the bridge's held writes (config.db.roundtrips) are prepared once
# per connection and run with a generic plan, which PostgreSQL then does not make again
# for every call (planning was half of their time). Off for a pooler that hands one
# client several server sessions (PgBouncer in transaction mode): a statement prepared
# by SQL lives in one.
DATABASE_PREPARED_STATEMENTS = bool(DATABASE_URL) and env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASE_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Only statements prepared by name are planned this way: Django's client-side
        # binding prepares nothing.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c plan_cache_mode=force_generic_plan"
    if env_str("DATABASE_TEST_NAME"):
        # Lets two test runs share one PostgreSQL server without sharing a test database.
        DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # Several writers (server, bridge, simulator) share one file in the embedded
            # default; WAL and a busy timeout keep them from failing with "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite cannot enforce "NULLS NOT DISTINCT" unique constraints (case categories with no
# parent); the crm services check that uniqueness themselves, PostgreSQL enforces it too.
SILENCED_SYSTEM_CHECKS = [] if DATABASE_URL else ["models.W047"]
