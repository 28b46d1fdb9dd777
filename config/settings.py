"""Settings, read from the environment (12-factor).

With nothing set the project runs on embedded defaults: SQLite under ./var, the
in-memory channel layer and Celery in eager mode. ``DATABASE_URL`` switches to
PostgreSQL, ``REDIS_URL`` switches the channel layer and the Celery broker to Redis,
and ``DJANGO_ENV=production`` turns on the production hardening that
``manage.py check --deploy`` asks for. docs/configuration.md lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.encryption import KEY_FILE_NAME as ENCRYPTION_KEY_FILE_NAME
from config.encryption import new_key, parse_keys
from config.env import env_bool, env_int, env_list, env_required, env_str
from config.logging import logging_config
from config.ratelimits import parse_rate
from config.secret_key import installation_key, installation_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("DJANGO_ENV must be development, production or test.")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
else:
    # No key in the source: this installation's own, made on first run (config/secret_key.py).
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or installation_secret_key(VAR_DIR)
# Keys that encrypt PBX and Twilio credentials at rest, newest first (config/encryption.py).
# Outside production, without them: this installation's own, as for SECRET_KEY.
if PRODUCTION:
    FIELD_ENCRYPTION_KEYS = parse_keys(env_list("FIELD_ENCRYPTION_KEYS"))
else:
    FIELD_ENCRYPTION_KEYS = parse_keys(
        env_list("FIELD_ENCRYPTION_KEYS")
        or [installation_key(VAR_DIR, ENCRYPTION_KEY_FILE_NAME, new_key)]
    )
# Off unless asked for, the demo too: Django's debug pages list every URL pattern and
# show tracebacks with settings to whoever reaches the server.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework_simplejwt",
    # Refresh tokens rotate and the used one is blacklisted (docs/configuration.md, Auth).
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "contactcenter",
    "crm",
    "provisioning",
    "telephony",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The request as the audit trail's actor, with a request id (contactcenter/middleware.py).
    "contactcenter.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (config/csp.py).
    "config.csp.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "contactcenter.User"
# Database sessions whose key is checked before the lookup (config/session_store.py).
SESSION_ENGINE = "config.session_store"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Our own scripts, styles, images and fonts only; pages that need more add it
# (config/csp.py: the console's SIP and Twilio connections, the admin's inline style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Database -----------------------------------------------------------------------
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

# --- Redis: channel layer, Celery broker, cache ------------------------------------
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

# --- E-mail (notifications: a case assigned to you, a case overdue; docs/cases.md) -----
# Django's mail backend: SMTP when EMAIL_HOST is set, else the console (development).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "contact-center@localhost")
# The address people reach this installation at, e.g. https://cc.example.com: the links
# in e-mails (invitations) start with it. Blank: the host of the request that sent them.
PUBLIC_URL = env_str("PUBLIC_URL").rstrip("/")
# How long an invitation's link may be used (once); docs/going-live.md.
INVITATION_MAX_AGE_HOURS = env_int("INVITATION_MAX_AGE_HOURS", 72)
if INVITATION_MAX_AGE_HOURS < 1:
    raise ImproperlyConfigured("INVITATION_MAX_AGE_HOURS must be at least 1.")
if PUBLIC_URL and not PUBLIC_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUBLIC_URL must start with https:// (or http://).")

# --- The trash (docs/cases.md) ---------------------------------------------------------
# Days a deleted contact or case stays restorable in the trash before the hourly purge.
TRASH_RETENTION_DAYS = env_int("TRASH_RETENTION_DAYS", 30)
if TRASH_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("TRASH_RETENTION_DAYS must be at least 1.")

# --- Calls and reports (docs/reports.md) ----------------------------------------------
# A call still open this long after it started had its hangup missed: the sweep closes it.
CALLS_STALE_AFTER_HOURS = env_int("CALLS_STALE_AFTER_HOURS", 12)
# Longest date range one report request may ask for.
REPORTS_MAX_DAYS = env_int("REPORTS_MAX_DAYS", 92)
if CALLS_STALE_AFTER_HOURS < 1 or REPORTS_MAX_DAYS < 1:
    raise ImproperlyConfigured("CALLS_STALE_AFTER_HOURS and REPORTS_MAX_DAYS must be at least 1.")

# --- Auth ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "realtime:login"  # the console and wallboard sign-in page
# Every sign-in (the REST token, /login/, /admin/) goes through this backend: the
# per-account and per-address limits of contactcenter/services/signin.py.
AUTHENTICATION_BACKENDS = ["contactcenter.backends.SignInLimitedBackend"]
# Proxies in front that append the client's address to X-Forwarded-For (config/proxy.py);
# 0: the TCP peer is the client. deploy/ runs nginx in front: 1 there.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Failed sign-ins: after the free ones, each failure locks the account (or the address)
# for twice as long as the last, up to the cap; failures are forgotten after the window
# passes without one. The counts live in the cache (Redis when configured).
SIGNIN_FREE_FAILURES = env_int("SIGNIN_FREE_FAILURES", 5)
SIGNIN_ADDRESS_FREE_FAILURES = env_int("SIGNIN_ADDRESS_FREE_FAILURES", 20)
SIGNIN_LOCK_FIRST_SECONDS = env_int("SIGNIN_LOCK_FIRST_SECONDS", 2)
SIGNIN_LOCK_MAX_SECONDS = env_int("SIGNIN_LOCK_MAX_SECONDS", 300)
SIGNIN_WINDOW_SECONDS = env_int("SIGNIN_WINDOW_SECONDS", 900)
SIGNIN_KEY_PREFIX = env_str("SIGNIN_KEY_PREFIX", "cc:signin")
if TRUSTED_PROXY_COUNT < 0 or min(SIGNIN_LOCK_FIRST_SECONDS, SIGNIN_WINDOW_SECONDS) < 1:
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT must be 0 or more; SIGNIN_LOCK_FIRST_SECONDS and "
        "SIGNIN_WINDOW_SECONDS at least 1."
    )

# --- Audit trail and API keys (docs/security.md) -----------------------------------------
# Days audit entries are kept when the organization sets nothing (the purge job runs
# hourly); entries are never changed or deleted otherwise.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
# Fields whose values audit entries leave out (they record that the field changed):
# bare names ("email") or qualified by the object type ("crm.contact.email"). Secrets
# (passwords, tokens, key hashes) are always left out, whatever this says.
AUDIT_REDACTED_FIELDS = env_list(
    "AUDIT_REDACTED_FIELDS",
    ["email", "first_name", "last_name", "number", "caller_number", "caller_name", "body"],
)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1.")
# An API key's last-used time and address are written at most this often.
API_KEY_TOUCH_SECONDS = env_int("API_KEY_TOUCH_SECONDS", 60)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Call recordings (docs/recordings.md) ---------------------------------------------------
# Where the stored recordings live: a directory by default, an S3-compatible bucket when
# RECORDINGS_S3_BUCKET is set (django-storages; credentials from the usual AWS_* variables
# or RECORDINGS_S3_ACCESS_KEY / RECORDINGS_S3_SECRET_KEY).
RECORDINGS_S3_BUCKET = env_str("RECORDINGS_S3_BUCKET", "")
if RECORDINGS_S3_BUCKET:
    STORAGES["recordings"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": RECORDINGS_S3_BUCKET,
            "endpoint_url": env_str("RECORDINGS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("RECORDINGS_S3_REGION", "") or None,
            "access_key": env_str("RECORDINGS_S3_ACCESS_KEY", "") or None,
            "secret_key": env_str("RECORDINGS_S3_SECRET_KEY", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["recordings"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("RECORDINGS_DIR", str(VAR_DIR / "recordings"))},
    }
# The shared volume: the PBX's monitor directory (RECORDINGS_PBX_DIR, as the PBX names
# its files) mounted here at RECORDINGS_SPOOL_DIR. A file named outside it is refused.
RECORDINGS_PBX_DIR = env_str("RECORDINGS_PBX_DIR", "/var/spool/asterisk/monitor")
RECORDINGS_SPOOL_DIR = env_str("RECORDINGS_SPOOL_DIR", str(VAR_DIR / "monitor"))
# A recording whose file has not arrived this long after the call is marked failed.
RECORDINGS_FILE_TIMEOUT_SECONDS = env_int("RECORDINGS_FILE_TIMEOUT_SECONDS", 600)
# How long a playback link stays valid.
RECORDINGS_URL_SECONDS = env_int("RECORDINGS_URL_SECONDS", 300)
# The pull over HTTP, instead of the shared volume: the PBX's monitor directory served by
# a web server; {path} is the file's name relative to RECORDINGS_PBX_DIR. Basic auth
# (USERNAME/PASSWORD) or a bearer TOKEN (contactcenter/services/recording_pull.py).
RECORDINGS_PULL_URL = env_str("RECORDINGS_PULL_URL", "")
RECORDINGS_PULL_USERNAME = env_str("RECORDINGS_PULL_USERNAME", "")
RECORDINGS_PULL_PASSWORD = env_str("RECORDINGS_PULL_PASSWORD", "")
RECORDINGS_PULL_TOKEN = env_str("RECORDINGS_PULL_TOKEN", "")
RECORDINGS_PULL_TIMEOUT_SECONDS = env_int("RECORDINGS_PULL_TIMEOUT_SECONDS", 30)
# A file larger than this is refused (a pull, or Twilio's media), not written to disk.
RECORDINGS_PULL_MAX_BYTES = env_int("RECORDINGS_PULL_MAX_BYTES", 1 << 30)
# Twilio's recordings are fetched in this format: mp3 (smaller) or wav (Twilio's own).
TWILIO_RECORDINGS_FORMAT = env_str("TWILIO_RECORDINGS_FORMAT", "mp3")
if TWILIO_RECORDINGS_FORMAT not in ("mp3", "wav"):
    raise ImproperlyConfigured("TWILIO_RECORDINGS_FORMAT must be mp3 or wav.")
# Voicemail (docs/recordings.md, "Voicemail"): app_voicemail's spool as the PBX names it
# (VM_MESSAGEFILE starts with it), mounted here; the formats looked for, in order (the
# first of voicemail.conf's format=).
VOICEMAIL_PBX_DIR = env_str("VOICEMAIL_PBX_DIR", "/var/spool/asterisk/voicemail")
VOICEMAIL_SPOOL_DIR = env_str("VOICEMAIL_SPOOL_DIR", str(VAR_DIR / "voicemail"))
VOICEMAIL_FORMATS = [f for f in env_str("VOICEMAIL_FORMATS", "wav,WAV,gsm").split(",") if f]

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, refusing tokens issued before the user's last revocation.
        "contactcenter.api.authentication.JWTAuthentication",
        # "Authorization: Api-Key <key>" for REST clients (contactcenter/api/apikeys_auth.py).
        "contactcenter.api.apikeys_auth.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["contactcenter.api.permissions.IsOrganizationMember"],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, relations filtering by id (contactcenter/api/filtering.py).
        "contactcenter.api.filtering.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "contactcenter.api.pagination.DefaultPagination",
    # DRF's parsers with client text checked at the edge (no NUL, no lone surrogate,
    # bounded JSON nesting): contactcenter/api/parsers.py.
    "DEFAULT_PARSER_CLASSES": [
        "contactcenter.api.parsers.JSONParser",
        "contactcenter.api.parsers.FormParser",
        "contactcenter.api.parsers.MultiPartParser",
    ],
    # drf-standardized-errors' schema, valid OpenAPI (contactcenter/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "contactcenter.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # Per user and per API key within their organization, and per organization; reads,
    # writes and exports apart (contactcenter/api/throttling.py, RATE_LIMITS below).
    "DEFAULT_THROTTLE_CLASSES": ["contactcenter.api.throttling.OrganizationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("AUTH_THROTTLE_RATE", "30/minute")},
    # REMOTE_ADDR is the client already (config/proxy.py); never X-Forwarded-For again.
    "NUM_PROXIES": 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if not DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]

# REST rate limits (docs/security.md): "<count>/<second|minute|hour|day>", 0: none.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMITS_KEY_PREFIX = env_str("RATE_LIMITS_KEY_PREFIX", "cc:rate")

# One caller: a user (all their sessions and tokens together) or one API key.
RATE_LIMITS = {
    kind: parse_rate(env_str(name := f"RATE_LIMIT_{kind.upper()}", default), setting=name)
    for kind, default in {"read": "1200/minute", "write": "300/minute", "export": "30/hour"}.items()
}
# Everyone of one organization together.
RATE_LIMITS_ORGANIZATION = {
    kind: parse_rate(
        env_str(name := f"RATE_LIMIT_ORGANIZATION_{kind.upper()}", default), setting=name
    )
    for kind, default in {
        "read": "12000/minute",
        "write": "3000/minute",
        "export": "300/hour",
    }.items()
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    # A refresh token works once: the answer carries the next one (contactcenter/api/auth.py).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# /api/schema/ and /api/docs/ for anyone, or for signed-in users only (config/apidocs.py).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["config.apidocs.ApiDocsAccess"],
    "TITLE": "Contact-center API",
    "DESCRIPTION": "CRUD on contacts, cases, calls, dispositions, queues, agents, "
    "notifications and telephony connections, scoped to the caller's organization.",
    "VERSION": "1.0.0",
    # Tags and operation ids from the path after /api/v1/ ("contacts", "contacts_list"),
    # so a generated client has a module per resource, not one "v1" module.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Request bodies documented as JSON only (forms are still parsed): one body type per
    # operation is what generators handle (openapi-python-client emitted a union of three
    # identical models that did not import).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-standardized-errors' documented overrides, so its error enums get stable names.
    "ENUM_NAME_OVERRIDES": {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in [
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            "ErrorCode401Enum",
            "ErrorCode403Enum",
            "ErrorCode404Enum",
            "ErrorCode405Enum",
            "ErrorCode406Enum",
            "ErrorCode415Enum",
            "ErrorCode429Enum",
            "ErrorCode500Enum",
        ]
    }
    | {
        # Several models share field names (status, state, priority) with other choices.
        "CallStatusEnum": "contactcenter.enums.CallStatus",
        "TransferStatusEnum": "contactcenter.enums.TransferStatus",
        "AgentStateEnum": "contactcenter.enums.AgentState",
        "SelectableAgentStateEnum": "contactcenter.transitions.AGENT_SELECTABLE_CHOICES",
        "CaseStatusEnum": "crm.enums.CaseStatus",
        "CasePriorityEnum": "crm.enums.CasePriority",
        "NotificationKindEnum": "crm.enums.NotificationKind",
        # A member's role, and the narrower one an API key may hold.
        "RoleEnum": "contactcenter.enums.Role",
        "ApiKeyRoleEnum": "contactcenter.models.apikeys.KEY_ROLES",
        # The 401 codes of simplejwt and our revocation too (contactcenter/api/schema.py).
        "ErrorCode401Enum": "contactcenter.api.schema.ErrorCode401Enum",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # Ours maps ApplicationError and model ValidationError; set as the class (not a
    # wrapper function) so the schema lists the error responses of every endpoint.
    "EXCEPTION_HANDLER_CLASS": "contactcenter.api.errors.ProjectExceptionHandler",
    "ERROR_SCHEMAS": {"401": "contactcenter.api.schema.ErrorResponse401Serializer"},
}

# --- Security (production) ---------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Sending the preload flag commits nothing until the domain is submitted to the list.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_URL must be set in production.")

# --- Telephony ------------------------------------------------------------------------
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

# --- Realtime (WebSocket consoles and wallboards; docs/realtime-protocol.md) ----------
# The server process's garbage-collector thresholds (config/asgi.py); empty: Python's.
_gc_thresholds = [n.strip() for n in env_str("SERVER_GC_THRESHOLDS", "50000,20,100").split(",")]
SERVER_GC_THRESHOLDS = [int(n) for n in _gc_thresholds if n.isdigit()]
if any(_gc_thresholds) and (len(SERVER_GC_THRESHOLDS) != 3 or len(_gc_thresholds) != 3):
    raise ImproperlyConfigured("SERVER_GC_THRESHOLDS takes three integers, or nothing.")
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

# --- Observability (docs/operations.md) ------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")  # "json": one JSON object per line
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Prometheus: /metrics on every server process; the bridge serves its own on this port.
METRICS_PORT = env_int("METRICS_PORT", 0)
METRICS_ADDR = env_str("METRICS_ADDR", "127.0.0.1")
METRICS_CELERY_QUEUES = env_list("METRICS_CELERY_QUEUES", ["celery"])
# Who may scrape a server process's /metrics (config/metrics.py): clients in these
# networks, with "Authorization: Bearer <METRICS_TOKEN>" when a token is set.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
try:
    _metrics_networks = [ip_network(network, strict=False) for network in METRICS_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
