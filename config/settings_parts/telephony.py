"""Telephony: the single-PBX AMI connection, where connection records may point, the
PBX's call logs, the browser softphone and Twilio."""

from __future__ import annotations

from config.env import env_gc_thresholds, env_int, env_list, env_str

# The bridge's and its render worker's garbage-collector thresholds (config/serve.py,
# freeze_startup_objects); empty: Python's.
BRIDGE_GC_THRESHOLDS = env_gc_thresholds("BRIDGE_GC_THRESHOLDS", "700,10,100")
# One AMI connection for the simple single-PBX case, on top of the AsteriskConnection rows.
AMI_URL = env_str("AMI_URL")
AMI_ORGANIZATION = env_str("AMI_ORGANIZATION")
# Where Asterisk connection records may point besides public addresses (telephony/egress.py):
# hosts, IPs or networks, each with an optional port ("10.0.0.0/8", "pbx.lan:5038").
AMI_ALLOWED_TARGETS = env_list("AMI_ALLOWED_TARGETS")
# AMI_URL's PBX logs its calls here (CEL, queue_log, CDR; telephony/cel/): read after each
# reconnect to fill the outage, and nightly to reconcile. The operator's, not checked.
# postgresql://user:password@host:5432/asterisk; empty: no backfill (docs/operations.md).
CEL_DATABASE_URL = env_str("CEL_DATABASE_URL")
CEL_TABLE = env_str("CEL_TABLE", "cel")
CEL_QUEUE_LOG_TABLE = env_str("CEL_QUEUE_LOG_TABLE", "queue_log")
CEL_CDR_TABLE = env_str("CEL_CDR_TABLE", "cdr")
CEL_TIME_ZONE = env_str("CEL_TIME_ZONE", "UTC")
# The backfill reads its window once more this long after the reconnect (0: not), for
# rows a buffering log backend writes late.
CEL_BACKFILL_RECHECK_SECONDS = env_int("CEL_BACKFILL_RECHECK_SECONDS", 60)
# The browser softphone (docs/softphone.md): the PBX's SIP-over-WebSocket endpoint and
# SIP domain for agents whose profile leaves them blank; the life of a Twilio token.
SOFTPHONE_SIP_WEBSOCKET_URL = env_str("SOFTPHONE_SIP_WEBSOCKET_URL")
SOFTPHONE_SIP_DOMAIN = env_str("SOFTPHONE_SIP_DOMAIN")
TWILIO_TOKEN_TTL_SECONDS = env_int("TWILIO_TOKEN_TTL_SECONDS", 600)
# Twilio's REST API, asked to prove an account's credentials when an admin registers it
# (telephony/twilio/accounts.py).
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com")
