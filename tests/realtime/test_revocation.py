"""Open sockets end with the sessions they were opened under (4401), on both streams.

In process, on the in-memory channel layer; tests/realtime/test_revocation_processes.py
does the same over TCP across two server processes on Redis.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import F
from django.test import Client

from contactcenter.models import Agent, User
from contactcenter.services.organizations import agent_update, member_update
from contactcenter.services.sessions import user_revoke_sessions
from realtime.protocol import CloseCode
from realtime.tickets import ticket_issue
from tests.conftest import Floor
from tests.realtime.support import Socket, open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


async def open_wallboard(cookie: bytes) -> Socket:
    socket = Socket("/ws/wallboard/", cookie=cookie)
    connected, code = await socket.open()
    assert connected, code
    await socket.expect("snapshot")
    return socket


async def test_a_revocation_closes_every_socket_of_the_user(floor_a: Floor) -> None:
    # A supervisor with an agent profile: a console and a wallboard, two streams.
    supervisor = floor_a.supervisor
    await sync(
        lambda: Agent.objects.filter(pk=floor_a.other_agent.pk).update(user=supervisor.user)
    )()
    cookie = await session_cookie(supervisor.user)
    console, _ = await open_agent(cookie)
    board = await open_wallboard(cookie)
    bystander, _ = await open_agent(await session_cookie(floor_a.agent_member.user))

    await sync(user_revoke_sessions)(user=supervisor.user, reason="test")

    assert await console.closed_with() == CloseCode.UNAUTHENTICATED
    assert await board.closed_with() == CloseCode.UNAUTHENTICATED
    await bystander.send({"type": "ping", "id": "p", "data": {}})  # another user's stays open
    await bystander.until(lambda f: f["type"] == "pong")
    # The cookie those sockets were opened with opens nothing any more.
    again = Socket("/ws/wallboard/", cookie=cookie)
    assert await again.open() == (False, CloseCode.UNAUTHENTICATED)
    await bystander.close()


async def test_a_supervisor_demoted_to_agent_loses_the_wallboard(floor_a: Floor) -> None:
    board = await open_wallboard(await session_cookie(floor_a.supervisor.user))
    await sync(member_update)(membership=floor_a.supervisor, role="agent")
    assert await board.closed_with() == CloseCode.UNAUTHENTICATED


async def test_a_deactivated_agents_console_closes(floor_a: Floor) -> None:
    console, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    await sync(agent_update)(agent=floor_a.agent, is_active=False)
    assert await console.closed_with() == CloseCode.UNAUTHENTICATED


async def test_a_command_that_beats_the_close_is_refused(floor_a: Floor) -> None:
    """The revocation is committed, its message to the socket not yet there: the
    command is checked against the epoch and refused, and the socket closes."""
    console, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    user_id = floor_a.agent_member.user_id
    await sync(lambda: User.objects.filter(pk=user_id).update(auth_epoch=F("auth_epoch") + 1))()
    await console.send(
        {"type": "agent.set_state", "id": "late", "data": {"state": "paused", "reason": "x"}}
    )
    error = await console.until(lambda f: f["type"] in ("ack", "error"))
    assert error["type"] == "error"
    assert error["data"]["id"] == "late" and error["data"]["code"] == "session_revoked"
    assert await console.closed_with() == CloseCode.UNAUTHENTICATED
    agent = await sync(Agent.objects.get)(pk=floor_a.agent.pk)
    assert agent.state == "offline"  # not paused


async def test_a_ticket_issued_before_the_revocation_opens_nothing(floor_a: Floor) -> None:
    user = floor_a.agent_member.user
    ticket = ticket_issue(user_id=user.pk, auth_epoch=user.auth_epoch)
    await sync(user_revoke_sessions)(user=user, reason="test")
    socket = Socket(f"/ws/agent/?ticket={ticket}")
    assert await socket.open() == (False, CloseCode.UNAUTHENTICATED)
    fresh = Socket(f"/ws/agent/?ticket={ticket_issue(user_id=user.pk, auth_epoch=user.auth_epoch)}")
    assert (await fresh.open())[0]
    await fresh.close()


async def test_signing_out_on_the_page_closes_the_sockets(floor_a: Floor) -> None:
    user = floor_a.agent_member.user
    console, _ = await open_agent(await session_cookie(user))

    @sync
    def sign_out_elsewhere() -> int:
        browser = Client()
        browser.force_login(User.objects.get(pk=user.pk))
        return int(browser.post("/logout/").status_code)

    assert await sign_out_elsewhere() == 302
    assert await console.closed_with() == CloseCode.UNAUTHENTICATED


async def test_the_socket_group_is_left_on_close(floor_a: Floor, settings: Any) -> None:
    from channels.layers import get_channel_layer

    console, _ = await open_agent(await session_cookie(floor_a.agent_member.user))
    await console.close()
    layer = get_channel_layer()
    assert f"sockets.{floor_a.agent_member.user_id}" not in layer.groups  # type: ignore[union-attr]
