"""The ASGI entry point: the only way the server runs (``daphne config.asgi:application``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Under ASGI Django runs each request's sync code in a thread of its own, so a
# persistent connection stays behind with every request's thread: at 16 concurrent
# requests one server process reached PostgreSQL's max_connections ("too many
# clients", docs/benchmarks.md). Django's advice for ASGI: no persistent connections.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.auth import realtime_auth_stack  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin, then cookie, session and user (or ticket); the consumers check roles.
        "websocket": realtime_auth_stack(URLRouter(websocket_urlpatterns)),
    }
)
