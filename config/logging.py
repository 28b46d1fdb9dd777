"""Logging: readable lines by default, one JSON object per line with ``LOG_FORMAT=json``.

The JSON lines carry ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the
process id, ``exc`` when there is a traceback, and any ``extra={...}`` fields the call
site passed, so a log shipper can index them without parsing the message.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
FORMATS = ("plain", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        # default=str: an ``extra`` value that JSON cannot hold is logged as its text.
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """The LOGGING dict for ``LOG_LEVEL`` and ``LOG_FORMAT`` (``plain`` or ``json``)."""
    if fmt not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "config.logging.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django configures "django" with a console handler of its own (bare messages,
            # with DEBUG on) and "django.server" with another format, before this
            # configuration: every 4xx was written twice. Listed here, they lose those
            # handlers, and every record goes through the one handler above.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
