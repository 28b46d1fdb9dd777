"""What the services read: e-mail and invitations, the trash, calls and reports,
sign-in, the audit trail and API keys."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings_parts.core import VAR_DIR

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
