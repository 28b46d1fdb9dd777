"""A TCP proxy that can turn its open connections half-open: bytes keep being read
from both ends and are thrown away, no FIN or RST is sent, the sockets stay up. That is
what a client sees when a NAT, firewall or dead host drops a connection silently."""

from __future__ import annotations

import asyncio
import contextlib


class _Link:
    def __init__(self) -> None:
        self.frozen = False
        self.writers: list[asyncio.StreamWriter] = []

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


class HalfOpenProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> HalfOpenProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for link in self.links:
            link.close()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()

    def freeze(self) -> None:
        """Every connection open now goes silent both ways; new ones work normally."""
        for link in self.links:
            link.frozen = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        link = _Link()
        link.writers = [writer, up_writer]
        self.links.append(link)
        pumps = [
            asyncio.create_task(self._pump(link, reader, up_writer)),
            asyncio.create_task(self._pump(link, up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            link.close()
            for pump in pumps:
                self._tasks.discard(pump)

    async def _pump(
        self, link: _Link, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if not link.frozen:
                    sink.write(data)
                    await sink.drain()
