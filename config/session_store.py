"""Django's database sessions, with the key checked before it is looked up.

Django looks a session cookie up as it came, checking only its length. PostgreSQL
refuses a NUL in a query parameter, and a quoted cookie value may carry one as the
escape ``\\000`` (Python's cookie parser decodes it): a made-up cookie was a server
error before any sign-in, on every page and at every WebSocket handshake. Django makes
its keys of lowercase ASCII letters and digits; any other key is no session at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: Any) -> bool:
        return isinstance(key, str) and len(key) >= 8 and key.isascii() and key.isalnum()
