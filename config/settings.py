"""Settings, read from the environment (12-factor).

With nothing set the project runs on embedded defaults: SQLite under ./var, the
in-memory channel layer and Celery in eager mode. ``DATABASE_URL`` switches to
PostgreSQL, ``REDIS_URL`` switches the channel layer and the Celery broker to Redis,
and ``DJANGO_ENV=production`` turns on the production hardening that
``manage.py check --deploy`` asks for. docs/configuration.md lists every variable.
"""

# Every UPPERCASE name of these parts is a setting. They are read in this order (an
# invalid value stops the start at the first part that reads it), each part taking what
# it needs of an earlier one by name.
# ruff: noqa: F403, I001
from config.settings_parts.core import *
from config.settings_parts.database import *
from config.settings_parts.redis_celery import *
from config.settings_parts.domain import *
from config.settings_parts.files import *
from config.settings_parts.api import *
from config.settings_parts.security import *
from config.settings_parts.telephony import *
from config.settings_parts.realtime import *
from config.settings_parts.observability import *
