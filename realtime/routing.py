"""WebSocket URLs (config/asgi.py mounts them behind realtime.auth)."""

from django.urls import path

from realtime.consumers import AgentConsumer, SupervisorConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
    path("ws/supervisor/", SupervisorConsumer.as_asgi()),
]
