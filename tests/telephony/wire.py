"""A tiny AMI server for tests that must see the exact bytes a client writes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from telephony.ami.frames import AmiMessage, FrameParser, serialize


class RecordingServer:
    """Greets as Asterisk does, keeps every byte received, answers each action with a
    Success (a Login included), and counts connections. Not a PBX: a witness."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self.accepted = asyncio.Condition()
        self.closed = asyncio.Condition()
        self.closes = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def actions(self) -> list[AmiMessage]:
        return [f for f in FrameParser().feed(bytes(self.received)) if isinstance(f, AmiMessage)]

    async def wait_connections(self, count: int) -> None:
        async with self.accepted:
            await self.accepted.wait_for(lambda: self.connections >= count)

    async def wait_closed(self, count: int) -> None:
        async with self.closed:
            await self.closed.wait_for(lambda: self.closes >= count)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        async with self.accepted:
            self.connections += 1
            self.accepted.notify_all()
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = FrameParser()
        try:
            while data := await reader.read(65536):
                self.received += data
                for frame in parser.feed(data):
                    if isinstance(frame, AmiMessage) and frame.action_id is not None:
                        reply = [("Response", "Success"), ("ActionID", frame.action_id)]
                        writer.write(serialize([*reply, ("Message", "ok")]))
        except ConnectionError:
            pass
        finally:
            writer.close()
            async with self.closed:
                self.closes += 1
                self.closed.notify_all()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RecordingServer]:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        try:
            yield self
        finally:
            self._server.close()
            await self._server.wait_closed()
            # Connections still open end here, and their handlers with them.
            for writer in self._writers:
                writer.close()
            await asyncio.wait_for(self.wait_closed(self.connections), 10)
