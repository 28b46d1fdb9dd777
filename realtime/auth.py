"""Who is on the socket: the Origin check and the user, from a ticket or the session.

Refusals accept the handshake and then close with a code from ``CloseCode``: a browser
only ever sees 1006 for a handshake refused with an HTTP status, and the console needs
to tell "log in again" (4401) from "not allowed" (4403) or "wrong site" (4003).
Nothing is sent before such a close.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from contactcenter.selectors.access import user_signed_in
from realtime.protocol import CloseCode
from realtime.tickets import ticket_redeem

Scope = dict[str, Any]
ASGIApp = Any


def query_param(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get(name)
    return values[0] if values else None


async def close_with(code: int, send: Any, receive: Any) -> None:
    """Accept, then close with ``code`` (see the module docstring for why)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    # A plain int: Daphne (autobahn) refuses an IntEnum, and the close became a 1011
    # with a traceback in the log instead of our code.
    await send({"type": "websocket.close", "code": int(code)})


class OriginCheck(OriginValidator):
    """channels' Origin matching against ALLOWED_HOSTS (read per connection, so it follows
    the settings), refusing with 4003. A missing Origin is refused: browsers always send
    one, and the check exists for browsers."""

    def __init__(self, application: ASGIApp) -> None:
        super().__init__(application, [])

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                origin = urlparse(value.decode("latin1"))
        allowed = settings.ALLOWED_HOSTS
        if origin is not None and any(
            pattern == "*" or self.match_allowed_origin(origin, pattern) for pattern in allowed
        ):
            return await self.application(scope, receive, send)
        await close_with(CloseCode.ORIGIN_REFUSED, send, receive)


async def _ticket_user(ticket: str) -> Any:
    # The signature and the nonce's claim (a cache round trip) in a thread of their own:
    # the database's one thread is every socket's, and at a reconnect storm each of its
    # turns is waited for by all the sockets behind it.
    claim = await sync_to_async(ticket_redeem, thread_sensitive=False)(ticket)
    if claim is None:
        return AnonymousUser()
    user_id, auth_epoch = claim  # a ticket from before a revocation is worth nothing
    user = await database_sync_to_async(user_signed_in)(user_id=user_id, auth_epoch=auth_epoch)
    return user or AnonymousUser()


class UserMiddleware:
    """``scope["user"]``: the ticket's user when ``?ticket=`` is given (a bad ticket is
    anonymous, never a fallback to the cookie), else the session's."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        ticket = query_param(scope, "ticket")
        user = await _ticket_user(ticket) if ticket is not None else await get_user(scope)
        return await self.application({**scope, "user": user}, receive, send)


class SocketSessionMiddleware(SessionMiddleware):
    """channels' SessionMiddleware for sockets: the session in the scope, as it puts it
    there, and the server's own ``send`` passed on. Its wrapped ``send`` saves the
    session only before an HTTP response starts, which a socket never sends, yet it
    read the session twice on every message: a visible share of the server's time in a
    broadcast to thousands of wallboards (docs/benchmarks.md: the figures the code's
    comments rest on)."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await super().__call__(scope, receive, send)
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


def realtime_auth_stack(application: ASGIApp) -> ASGIApp:
    """Origin first (a foreign page learns nothing else), then cookie, session, user."""
    return OriginCheck(CookieMiddleware(SocketSessionMiddleware(UserMiddleware(application))))
