"""The installation: where it keeps its files, which environment it runs in, its
secrets, the hosts it answers, its apps, middleware and templates, the
Content-Security-Policy, the language and time zone."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.encryption import KEY_FILE_NAME as ENCRYPTION_KEY_FILE_NAME
from config.encryption import new_key, parse_keys
from config.env import env_bool, env_list, env_required, env_str
from config.secret_key import installation_key, installation_secret_key

BASE_DIR = Path(__file__).resolve().parents[2]
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

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
