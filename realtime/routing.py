"""WebSocket URLs (config/asgi.py mounts them behind realtime.auth)."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from realtime.consumers import AgentConsumer, SupervisorConsumer, WallboardConsumer
from realtime.protocol import CloseCode


class NoSuchStream(AsyncWebsocketConsumer):
    """Any other path closes 4404, like an id that names nothing. channels' router
    raised instead: the handshake failed with a 500 and a traceback, every try."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=int(CloseCode.NOT_FOUND))  # a plain int: see realtime.auth


websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
    path("ws/supervisor/", SupervisorConsumer.as_asgi()),
]

# After the streams (config/asgi.py): whatever path they did not take, /ws/ or not (a
# server reached without the proxy, as the one-process default is).
no_such_stream = re_path(r"", NoSuchStream.as_asgi())
