"""Who may open which socket: session or ticket, role, Origin; refusals and their codes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing

from realtime.protocol import CloseCode
from realtime.tickets import ticket_issue
from tests.conftest import Floor, client_for
from tests.realtime.support import Socket, open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


@sync
def ticket_for(floor_member: Any) -> str:
    response = client_for(floor_member).post("/api/v1/realtime/ticket/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["expires_in"] == 30
    assert response["Cache-Control"] == "no-store"
    return str(body["ticket"])


async def refused(path: str, **kwargs: Any) -> int | None:
    socket = Socket(path, **kwargs)
    connected, code = await socket.open()
    assert not connected
    return code


async def test_session_cookie_opens_the_agent_console(floor_a: Floor) -> None:
    socket, snapshot = await open_agent(await session_cookie(floor_a.agent_member.user))
    hello = socket.messages[0]["data"]
    assert hello == {
        "protocol": 2,
        "stream": "agent",
        "heartbeat_seconds": 20,
        "max_message_bytes": 65536,
    }
    assert snapshot["agent"]["id"] == floor_a.agent.pk
    await socket.close()


async def test_ticket_opens_the_socket_once(floor_a: Floor) -> None:
    ticket = await ticket_for(floor_a.agent_member)
    socket = Socket(f"/ws/agent/?ticket={ticket}")
    connected, _ = await socket.open()
    assert connected
    assert (await socket.expect("snapshot"))["data"]["agent"]["id"] == floor_a.agent.pk
    await socket.close()
    # Single use: the same ticket again is refused.
    assert await refused(f"/ws/agent/?ticket={ticket}") == CloseCode.UNAUTHENTICATED


async def test_ticket_for_the_wallboard(floor_a: Floor) -> None:
    ticket = await ticket_for(floor_a.supervisor)
    socket = Socket(f"/ws/wallboard/?ticket={ticket}")
    connected, _ = await socket.open()
    assert connected
    await socket.expect("snapshot")
    await socket.close()


async def test_expired_and_forged_tickets_are_refused(floor_a: Floor, settings: Any) -> None:
    forged = signing.dumps({"u": floor_a.agent_member.user_id, "n": "x"}, salt="other")
    assert await refused(f"/ws/agent/?ticket={forged}") == CloseCode.UNAUTHENTICATED
    tampered = ticket_issue(user_id=floor_a.agent_member.user_id)[:-2] + "AA"
    assert await refused(f"/ws/agent/?ticket={tampered}") == CloseCode.UNAUTHENTICATED
    expired = ticket_issue(user_id=floor_a.agent_member.user_id)
    settings.REALTIME_TICKET_SECONDS = -1  # every ticket is now older than its lifetime
    assert await refused(f"/ws/agent/?ticket={expired}") == CloseCode.UNAUTHENTICATED


async def test_a_bad_ticket_does_not_fall_back_to_the_cookie(floor_a: Floor) -> None:
    cookie = await session_cookie(floor_a.agent_member.user)
    code = await refused("/ws/agent/?ticket=nonsense", cookie=cookie)
    assert code == CloseCode.UNAUTHENTICATED


async def test_anonymous_is_refused_on_both_streams(floor_a: Floor) -> None:
    assert await refused("/ws/agent/") == CloseCode.UNAUTHENTICATED
    assert await refused("/ws/wallboard/") == CloseCode.UNAUTHENTICATED


def test_ticket_endpoint_needs_an_authenticated_member(api_client: Any) -> None:
    assert api_client.post("/api/v1/realtime/ticket/").status_code == 401


async def test_roles(floor_a: Floor) -> None:
    # A supervisor with no agent profile has no console; an agent has no wallboard.
    supervisor = await session_cookie(floor_a.supervisor.user)
    assert await refused("/ws/agent/", cookie=supervisor) == CloseCode.FORBIDDEN
    agent = await session_cookie(floor_a.agent_member.user)
    assert await refused("/ws/wallboard/", cookie=agent) == CloseCode.FORBIDDEN
    admin = Socket("/ws/wallboard/", cookie=await session_cookie(floor_a.admin.user))
    assert (await admin.open())[0]
    await admin.close()


async def test_a_user_with_no_membership_is_forbidden(
    floor_a: Floor, django_user_model: Any
) -> None:
    user = await sync(django_user_model.objects.create_user)(username="loner", password="x")
    assert await refused("/ws/agent/", cookie=await session_cookie(user)) == CloseCode.FORBIDDEN


async def test_a_member_of_an_inactive_organization_is_forbidden(floor_a: Floor) -> None:
    floor_a.org.is_active = False
    await sync(floor_a.org.save)()
    cookie = await session_cookie(floor_a.agent_member.user)
    assert await refused("/ws/agent/", cookie=cookie) == CloseCode.FORBIDDEN


@pytest.mark.parametrize(
    "origin",
    [b"http://evil.example", b"http://testserver.evil.example", None, b"null"],
)
async def test_foreign_or_missing_origin_is_refused(floor_a: Floor, origin: bytes | None) -> None:
    cookie = await session_cookie(floor_a.agent_member.user)
    code = await refused("/ws/agent/", cookie=cookie, origin=origin)
    assert code == CloseCode.ORIGIN_REFUSED


async def test_origin_follows_allowed_hosts(floor_a: Floor, settings: Any) -> None:
    settings.ALLOWED_HOSTS = [".example.com"]
    cookie = await session_cookie(floor_a.agent_member.user)
    socket = Socket("/ws/agent/", cookie=cookie, origin=b"https://cc.example.com")
    assert (await socket.open())[0]
    await socket.close()
    assert await refused("/ws/agent/", cookie=cookie) == CloseCode.ORIGIN_REFUSED


async def test_wallboard_queue_scope(floor_a: Floor, floor_b: Floor) -> None:
    from tests.factories import make_queue

    own = await sync(make_queue)(floor_a.org, "sales")
    foreign = await sync(make_queue)(floor_b.org, "sales")
    cookie = await session_cookie(floor_a.supervisor.user)
    assert await refused(f"/ws/wallboard/?queue={foreign.pk}", cookie=cookie) == (
        CloseCode.NOT_FOUND
    )
    assert await refused("/ws/wallboard/?queue=abc", cookie=cookie) == CloseCode.BAD_REQUEST
    socket = Socket(f"/ws/wallboard/?queue={own.pk}", cookie=cookie)
    assert (await socket.open())[0]
    snapshot = (await socket.expect("snapshot"))["data"]
    assert snapshot["scope"] == {"queue_id": own.pk}
    assert [q["queue_id"] for q in snapshot["queues"]] == [own.pk]
    await socket.close()


async def test_inactive_agent_profile_is_forbidden(floor_a: Floor) -> None:
    floor_a.agent.is_active = False
    await sync(floor_a.agent.save)()
    cookie = await session_cookie(floor_a.agent_member.user)
    assert await refused("/ws/agent/", cookie=cookie) == CloseCode.FORBIDDEN


async def test_a_socket_gets_its_session_and_the_servers_own_send() -> None:
    """The socket stack's session middleware puts the session in the scope and passes
    the server's ``send`` on unwrapped (the stock wrapper read the session on every
    message, to save it before HTTP responses a socket never sends)."""
    from django.conf import settings

    from realtime.auth import SocketSessionMiddleware

    seen: dict[str, Any] = {}

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen[scope["type"]] = (scope["session"].session_key, send)

    async def server_send(message: dict[str, Any]) -> None:
        raise AssertionError("not called")

    middleware = SocketSessionMiddleware(inner)
    cookies = {settings.SESSION_COOKIE_NAME: "k" * 32}
    for type_ in ("websocket", "http"):
        await middleware({"type": type_, "cookies": cookies}, None, server_send)
    assert seen["websocket"] == ("k" * 32, server_send)
    # Anything else keeps channels' wrapper, which saves the session on responses.
    key, send = seen["http"]
    assert key == "k" * 32 and send is not server_send
