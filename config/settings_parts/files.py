"""Files: static files, and where call recordings and voicemails are stored and
fetched from (docs/recordings.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str
from config.settings_parts.core import PRODUCTION, VAR_DIR

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
