"""The ceiling the WebSocket benchmarks compare with: a plain ``websockets`` server.

It does the least a server can do on the same path as Daphne: it listens to one Redis
pub/sub channel and forwards each message as it is, either to every connected client
(a message without ``"to"``: the fan-out ceiling) or to the one client that connected
with ``?id=<to>`` (the latency ceiling). With ``--greet N`` it first sends each new
connection a ``hello`` and a ``snapshot`` message of about N bytes, as the consoles get
(the reconnect-storm ceiling). No Django, no auth, no database. It prints
``{"port": N}`` on stdout once it listens and runs until SIGTERM.

    python -m bench.ws_ceiling --redis-url redis://127.0.0.1:6379/11 --channel bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(options: argparse.Namespace) -> None:
    clients: dict[str, ServerConnection] = {}
    greeting = [
        json.dumps({"type": "hello", "seq": 1, "data": {}}),
        json.dumps({"type": "snapshot", "seq": 2, "data": {"pad": "x" * options.greet}}),
    ]

    async def handler(connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path if connection.request else "").query)
        key = query.get("id", [str(id(connection))])[0]
        if options.greet:
            for message in greeting:
                await connection.send(message)
        clients[key] = connection
        try:
            await connection.wait_closed()
        finally:
            if clients.get(key) is connection:
                del clients[key]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    client = aioredis.Redis.from_url(options.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(options.channel)

    async def forward() -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            data = message["data"].decode()
            to = json.loads(data).get("to")
            if to is None:
                broadcast(list(clients.values()), data)
            elif (target := clients.get(str(to))) is not None:
                await target.send(data)

    async with serve(handler, "127.0.0.1", options.port, max_queue=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        task = asyncio.create_task(forward())
        await stop.wait()
        task.cancel()
    await pubsub.aclose()
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", default="bench")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--greet", type=int, default=0, help="snapshot bytes sent on connect")
    asyncio.run(main(parser.parse_args()))
