"""A test console: a WebsocketCommunicator on the real ASGI application, message-aware."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from contactcenter.models import User

ORIGIN = b"http://testserver"
TIMEOUT = 3


def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def session_cookie(user: User) -> bytes:
    """The session cookie a browser that logged in would send."""
    return await database_sync_to_async(_session_cookie)(user)


def sync(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run database code from an async test (the ORM refuses the event loop's thread)."""
    return database_sync_to_async(function)  # type: ignore[no-any-return]


class Socket:
    def __init__(self, path: str, *, cookie: bytes | None = None, origin: bytes | None = ORIGIN):
        headers = [(b"host", b"testserver")]
        if origin is not None:
            headers.append((b"origin", origin))
        if cookie is not None:
            headers.append((b"cookie", cookie))
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        self.messages: list[dict[str, Any]] = []
        self.taken: set[int] = set()
        self.close_code: int | None = None

    async def open(self) -> tuple[bool, Any]:
        """Connect; on refusal (accept then close), the close code."""
        connected, detail = await self.comm.connect(timeout=TIMEOUT)
        if not connected:
            return False, detail
        out = await self.comm.receive_output(TIMEOUT)
        if out["type"] == "websocket.close":
            self.close_code = _close_code(out)
            return False, self.close_code
        self._keep(out)
        return True, None

    def _keep(self, output: dict[str, Any]) -> dict[str, Any]:
        assert output["type"] == "websocket.send", output
        message = json.loads(output["text"])
        assert set(message) == {"type", "seq", "ts", "data"}, message
        if self.messages:
            assert message["seq"] == self.messages[-1]["seq"] + 1, (self.messages[-1], message)
        else:
            assert message["seq"] == 1
        self.messages.append(message)
        return message

    async def next(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        out = await self.comm.receive_output(timeout)
        if out["type"] == "websocket.close":
            self.close_code = _close_code(out)
            raise ConnectionClosed(self.close_code)
        return self._keep(out)

    async def expect(self, type_: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message, which must be of ``type_``."""
        message = await self.next(timeout)
        assert message["type"] == type_, message
        return message

    async def until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        """The first message not returned before that matches: already received (messages
        skipped while waiting for something else stay available), or the next ones."""
        for index, message in enumerate(self.messages):
            if index not in self.taken and match(message):
                self.taken.add(index)
                return message
        while True:
            message = await self.next(timeout)
            if match(message):
                self.taken.add(len(self.messages) - 1)
                return message

    async def send(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        await self.comm.send_to(text_data=text)

    async def command(self, type_: str, data: dict[str, Any], id_: str = "c1") -> dict[str, Any]:
        """Send a command and return its answer (ack or error), skipping events."""
        await self.send({"type": type_, "id": id_, "data": data})
        return await self.until(
            lambda f: f["type"] in ("ack", "error") and f["data"].get("id") == id_
        )

    async def closed_with(self, timeout: float = TIMEOUT) -> int | None:
        """Read messages until the server closes; the close code."""
        while True:
            out = await self.comm.receive_output(timeout)
            if out["type"] == "websocket.close":
                self.close_code = _close_code(out)
                return self.close_code
            self._keep(out)

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Every message until none comes for ``quiet`` seconds (to assert an absence)."""
        messages = []
        while not await self.comm.receive_nothing(quiet):
            messages.append(await self.next())
        return messages

    async def close(self) -> None:
        await self.comm.disconnect()

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in self.messages if f["type"] == type_]


def _close_code(output: dict[str, Any]) -> int | None:
    code = output.get("code")
    # Daphne (autobahn) refuses anything but a plain int (an IntEnum made a 1011).
    assert code is None or type(code) is int, f"close code {code!r} is not a plain int"
    return code


class ConnectionClosed(AssertionError):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"the server closed the socket with {code}")
        self.code = code


async def open_agent(cookie: bytes, path: str = "/ws/agent/") -> tuple[Socket, dict[str, Any]]:
    """An agent console, past hello; returns it with the snapshot's data."""
    socket = Socket(path, cookie=cookie)
    connected, code = await socket.open()
    assert connected, code
    hello = socket.messages[0]
    assert hello["type"] == "hello"
    snapshot = await socket.expect("snapshot")
    return socket, snapshot["data"]


# Figures relative to the moment they were computed (elapsed waits and times in state).
MOVING = {"longest_wait_seconds", "seconds_in_state"}


def steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in MOVING}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


async def open_board(member: Any, query: str = "") -> tuple[Socket, dict[str, Any]]:
    socket = Socket(f"/ws/wallboard/{query}", cookie=await session_cookie(member.user))
    connected, code = await socket.open()
    assert connected, code
    assert socket.messages[0]["data"]["stream"] == "wallboard"
    return socket, (await socket.expect("snapshot"))["data"]


def presence_of(agent_id: int, online: bool) -> Any:
    def match(message: dict[str, Any]) -> bool:
        return message["type"] == "agent.presence" and message["data"] == {
            "agent_id": agent_id,
            "online": online,
        }

    return match
