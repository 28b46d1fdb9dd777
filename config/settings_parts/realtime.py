"""Realtime: the WebSocket consoles and wallboards (docs/realtime-protocol.md), and the
server process they run in."""

from __future__ import annotations

from config.env import env_gc_thresholds, env_int, env_str
from config.settings_parts.redis_celery import REDIS_URL

# The server process's garbage-collector thresholds (config/asgi.py); empty: Python's.
SERVER_GC_THRESHOLDS = env_gc_thresholds("SERVER_GC_THRESHOLDS", "50000,20,100")
REALTIME_TICKET_SECONDS = env_int("REALTIME_TICKET_SECONDS", 30)
REALTIME_COALESCE_MS = env_int("REALTIME_COALESCE_MS", 250)
# A queue alert clears once its figure has been back within the threshold this long
# (the hysteresis: docs/supervisor.md#alerts).
QUEUE_ALERT_CLEAR_SECONDS = env_int("QUEUE_ALERT_CLEAR_SECONDS", 30)
REALTIME_CONSOLE_COALESCE_MS = env_int("REALTIME_CONSOLE_COALESCE_MS", 1000)
REALTIME_MAX_MESSAGE_BYTES = env_int("REALTIME_MAX_MESSAGE_BYTES", 65536)
REALTIME_RATE_PER_SECOND = env_int("REALTIME_RATE_PER_SECOND", 10)
REALTIME_RATE_BURST = env_int("REALTIME_RATE_BURST", 30)
REALTIME_MAX_PENDING_COMMANDS = env_int("REALTIME_MAX_PENDING_COMMANDS", 8)
# Sockets (consoles and wallboards together) one user may hold open, across server
# processes (realtime/sockets.py); 0: no limit.
REALTIME_MAX_SOCKETS_PER_USER = env_int("REALTIME_MAX_SOCKETS_PER_USER", 20)
REALTIME_HEARTBEAT_SECONDS = env_int("REALTIME_HEARTBEAT_SECONDS", 20)
REALTIME_PRESENCE_TTL_SECONDS = env_int("REALTIME_PRESENCE_TTL_SECONDS", 60)
REALTIME_PRESENCE_GRACE_SECONDS = env_int("REALTIME_PRESENCE_GRACE_SECONDS", 15)
# Presence must be shared by every server process: Redis whenever there is one.
REALTIME_PRESENCE_URL = env_str("REALTIME_PRESENCE_URL", REDIS_URL)
REALTIME_KEY_PREFIX = env_str("REALTIME_KEY_PREFIX", "cc:rt")
REALTIME_PBX_TIMEOUT_SECONDS = env_int("REALTIME_PBX_TIMEOUT_SECONDS", 8)
REALTIME_WRAPUP_WINDOW_SECONDS = env_int("REALTIME_WRAPUP_WINDOW_SECONDS", 8 * 3600)
# A callback offered in an agent's console (Asterisk) goes to another agent when it is
# not taken within this many seconds (contactcenter/services/callback_offers.py).
CALLBACK_OFFER_SECONDS = env_int("CALLBACK_OFFER_SECONDS", 30)
