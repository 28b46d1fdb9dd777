"""The client's address: the TCP peer, or what the trusted proxy in front says it is.

One rule for the whole server, applied once per connection (HTTP and WebSocket) before
Django or a consumer sees the scope: with ``TRUSTED_PROXY_COUNT = 0`` (the default) the
address is the TCP peer's and ``X-Forwarded-For`` is ignored; with ``N`` proxies in
front, each appending the address it saw to ``X-Forwarded-For``, the address is the
N-th entry from the right: the one the outermost trusted proxy wrote. Entries to the
left of it were written by the client and are never read. ``scope["client"]`` (so
Django's ``REMOTE_ADDR``) then holds the address, and everything else (sign-in limits,
DRF's throttles with ``NUM_PROXIES = 0``, logs) reads only that.

Daphne must then run *without* ``--proxy-headers``: Daphne takes the leftmost entry of
``X-Forwarded-For`` (the client's own, whenever a proxy appends) from any peer.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    if not values:
        return None
    # Several headers of one name are one list (RFC 9110, 5.3), in the order received.
    return ",".join(value.decode("latin1") for value in values)


def _address(text: str) -> str | None:
    """An IP address as text, or None for anything else (a name, a port, garbage)."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def forwarded_client(forwarded_for: str | None, trusted: int) -> str | None:
    """The address the outermost of ``trusted`` proxies saw, from ``X-Forwarded-For``;
    None when the header has fewer entries than that (not through the proxies) or the
    entry is not an IP address."""
    if trusted <= 0 or not forwarded_for:
        return None
    entries = forwarded_for.split(",")
    if len(entries) < trusted:
        return None
    return _address(entries[-trusted])


class TrustedProxyMiddleware:
    """Sets ``scope["client"]`` by the rule above (ASGI; wraps the whole application)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        trusted = settings.TRUSTED_PROXY_COUNT
        if trusted > 0 and scope["type"] in ("http", "websocket"):
            client = forwarded_client(_header(scope, b"x-forwarded-for"), trusted)
            if client is not None:
                scope = {**scope, "client": [client, 0]}
            proto = (_header(scope, b"x-forwarded-proto") or "").strip().lower()
            if proto in ("http", "https"):
                secure = proto == "https"
                scheme = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
                scope = {**scope, "scheme": scheme}
        return await self.application(scope, receive, send)
