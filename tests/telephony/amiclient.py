"""A small raw AMI client for tests, built on telephony.ami.frames.

It records every message it receives, so a test can wait for a condition instead of
sleeping: ``await client.wait_for(lambda m: m.event == "Hangup")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Callable

from telephony.ami.frames import AmiMessage, Banner, FrameParser, serialize

TIMEOUT = 10.0


class AmiTestClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.banner: str | None = None
        self.messages: list[AmiMessage] = []
        self.events: Counter[str] = Counter()
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> AmiTestClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def _read(self) -> None:
        parser = FrameParser()
        try:
            while data := await self.reader.read(65536):
                for frame in parser.feed(data):
                    if isinstance(frame, Banner):
                        self.banner = frame.version
                    elif isinstance(frame, AmiMessage):
                        self.messages.append(frame)
                        if frame.event is not None:
                            self.events[frame.event] += 1
                self._changed.set()
        except ConnectionError:
            pass
        finally:
            self.closed.set()
            self._changed.set()

    async def wait_for(
        self, predicate: Callable[[AmiMessage], bool], *, start: int = 0, timeout: float = TIMEOUT
    ) -> AmiMessage:
        """The first message from index ``start`` on that matches, waiting for it if needed."""

        async def scan() -> AmiMessage:
            index = start
            while True:
                while index < len(self.messages):
                    message = self.messages[index]
                    index += 1
                    if predicate(message):
                        return message
                if self.closed.is_set():
                    raise ConnectionError("the server closed the connection")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def wait_closed(self, timeout: float = TIMEOUT) -> None:
        await asyncio.wait_for(self.closed.wait(), timeout)

    def send(self, action: str, **fields: str) -> str:
        action_id = f"test-{next(self._ids)}"
        pairs = [("Action", action), ("ActionID", action_id), *fields.items()]
        self.writer.write(serialize(pairs))
        return action_id

    async def request(self, action: str, **fields: str) -> AmiMessage:
        action_id = self.send(action, **fields)
        return await self.wait_for(lambda m: m.response is not None and m.action_id == action_id)

    async def request_list(self, action: str, **fields: str) -> list[AmiMessage]:
        """The response, the items, and the ``...Complete`` event of a list action."""
        start = len(self.messages)
        action_id = self.send(action, **fields)
        await self.wait_for(
            lambda m: m.action_id == action_id and (m.event or "").endswith("Complete"),
            start=start,
        )
        return [m for m in self.messages[start:] if m.action_id == action_id]

    async def login(self, username: str = "bridge", secret: str = "secret") -> AmiMessage:
        return await self.request("Login", Username=username, Secret=secret, Events="on")

    async def sync(self) -> None:
        """Ping and wait for the Pong: everything the server wrote before it has arrived."""
        await self.request("Ping")

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
