"""Redis: the channel layer, the Celery broker and the cache (in-memory, and Celery
eager, without ``REDIS_URL``); Celery, and its periodic work (celery beat)."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab

from config.env import env_bool, env_int, env_str

REDIS_URL = env_str("REDIS_URL")
# Connections one server process may open to Redis per pool (the channel layer's, the
# presence store's). redis-py 8 caps a pool at 100 and then fails the command
# ("Too many connections") instead of waiting: a burst of a few thousand consoles
# connecting at once got there (docs/benchmarks.md).
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 2000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's pub/sub layer, counting send errors (realtime/layers.py:
            # why pub/sub, and what a lost subscription does).
            "BACKEND": "realtime.layers.CountingRedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        # A subscription connection that went quiet is pinged, so a
                        # dead one is noticed (and its channels told) in seconds.
                        "health_check_interval": 10,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "cc"),
            },
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.CountingInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Eager Celery (no REDIS_URL) still opens a producer on the broker to serialize a task;
# a memory:// URL without a host made kombu warn "No hostname was supplied" each time.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Periodic work (celery beat). Each entry names a task by its registered name; other
# entries (e.g. the overdue-cases sweep) are added beside these.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Yesterday's calls of each connection with a log source against the PBX's CDRs
    # (telephony/cel/reconcile.py); runs for each organization's yesterday.
    "reconcile-call-logs": {
        "task": "telephony.reconcile_call_logs",
        "schedule": crontab(hour=env_int("CALL_LOG_RECONCILE_HOUR", 3), minute=15),
    },
    # Twilio queues' routing: offers nobody reported on expire, waiting callers are
    # offered (telephony/twilio/routing/); the webhooks route at once, this catches up.
    "twilio-routing-repair": {
        "task": "telephony.twilio_routing_repair",
        "schedule": timedelta(seconds=env_int("TWILIO_ROUTING_REPAIR_SECONDS", 5)),
    },
    # Ended recordings: their files fetched from the shared volume (or pulled), or failed after
    # RECORDINGS_FILE_TIMEOUT_SECONDS (contactcenter/services/recording_files.py).
    "collect-recordings": {
        "task": "contactcenter.recordings_collect",
        "schedule": timedelta(seconds=env_int("RECORDINGS_COLLECT_INTERVAL_SECONDS", 30)),
    },
    # Voicemails whose file is not stored yet: fetched from the PBX's voicemail spool, or
    # failed after RECORDINGS_FILE_TIMEOUT_SECONDS (contactcenter/services/voicemail_files.py).
    "collect-voicemails": {
        "task": "contactcenter.voicemails_collect",
        "schedule": timedelta(seconds=env_int("RECORDINGS_COLLECT_INTERVAL_SECONDS", 30)),
    },
    # Twilio's completed recordings whose media is not stored yet (each completed
    # callback queues its own fetch; this retries and times out the rest).
    "fetch-twilio-recordings": {
        "task": "telephony.twilio_recordings_fetch",
        "schedule": timedelta(seconds=env_int("RECORDINGS_COLLECT_INTERVAL_SECONDS", 30)),
    },
    # Twilio voicemails' audio (telephony/twilio/voicemail_media.py), as recordings'.
    "fetch-twilio-voicemails": {
        "task": "telephony.twilio_voicemails_fetch",
        "schedule": timedelta(seconds=env_int("RECORDINGS_COLLECT_INTERVAL_SECONDS", 30)),
    },
    # Recordings past their organization's retention days (legal holds kept).
    "purge-expired-recordings": {
        "task": "contactcenter.recordings_purge_expired",
        "schedule": crontab(hour=env_int("RECORDINGS_PURGE_HOUR", 2), minute=30),
    },
    # Voicemails dealt with, past the same retention days (legal holds kept).
    "purge-expired-voicemails": {
        "task": "contactcenter.voicemails_purge_expired",
        "schedule": crontab(hour=env_int("RECORDINGS_PURGE_HOUR", 2), minute=40),
    },
    # Queue alerts judged for every organization (contactcenter/services/queue_alerts.py):
    # a wait that grows with no event, and alerts with no wallboard open.
    "evaluate-queue-alerts": {
        "task": "contactcenter.queue_alerts_evaluate",
        "schedule": timedelta(seconds=env_int("QUEUE_ALERTS_INTERVAL_SECONDS", 10)),
        # A run that waited past the next one is dropped, not piled up behind it.
        "options": {"expires": env_int("QUEUE_ALERTS_INTERVAL_SECONDS", 10)},
    },
    "sweep-stale-calls": {
        "task": "contactcenter.sweep_stale_calls",
        "schedule": timedelta(seconds=env_int("CALLS_SWEEP_INTERVAL_SECONDS", 300)),
    },
    "rollup-daily-stats": {
        "task": "contactcenter.rollup_recent_stats",
        "schedule": timedelta(seconds=env_int("REPORTS_ROLLUP_INTERVAL_SECONDS", 900)),
    },
    "mark-overdue-cases": {
        "task": "crm.cases_mark_overdue",
        "schedule": timedelta(seconds=env_int("CASES_OVERDUE_INTERVAL_SECONDS", 60)),
    },
    # Contacts and cases in the trash past TRASH_RETENTION_DAYS go for good.
    "purge-trash": {
        "task": "crm.trash_purge",
        "schedule": timedelta(hours=1),
    },
    # Each sign-in and refresh leaves a refresh-token record (simplejwt's blacklist).
    "flush-expired-tokens": {
        "task": "contactcenter.flush_expired_tokens",
        "schedule": timedelta(hours=1),
    },
    # Audit entries past their organization's retention (services/audit_purge.py).
    "purge-audit-entries": {
        "task": "contactcenter.audit_purge",
        "schedule": timedelta(hours=1),
    },
}
