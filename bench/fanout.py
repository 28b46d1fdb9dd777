"""Fan-out benchmark: idle wallboards on one Daphne process, and a broadcast to all.

    .venv/bin/python bench/fanout.py                 # 5,000 consoles, 20 broadcasts
    .venv/bin/python bench/fanout.py --quick         # 500 consoles, 5 broadcasts
    .venv/bin/python bench/fanout.py --quick --server uvicorn --processes 2

One Daphne process (``config.asgi``, DEBUG off, Redis channel layer) on a dedicated
PostgreSQL database and Redis database; or another ASGI server (``--server``), or
``--processes`` of them behind nginx (bench/_nginx.py: the deploy's rules). N WebSocket
clients (aiohttp, one asyncio loop in this process) open ``/ws/wallboard/`` as the demo
supervisor with one-time tickets and wait for ``hello`` + ``snapshot``; then they sit
idle. Printed:

* capacity: consoles connected / asked, the ramp's connections per second, and the
  server processes' RSS before and after: memory per connection = RSS delta / N;
* broadcast: a ``queues.changed`` ping is sent to the organization's group over the
  channel layer (what the bridge does after a commit); the server recomputes the queue
  figures once (each process does) and sends every wallboard its ``wallboard.update``.
  The time from the ping to each client's ``wallboard.update``: per broadcast the time
  to reach *all* clients (p50/p95 over the broadcasts) and every delivery's latency.

The ceiling, in the same run on the same machine, once the server is stopped: a plain
``websockets`` server (bench/ws_ceiling.py) holding the same number of clients and
forwarding a Redis pub/sub message to all of them (``websockets.broadcast``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c
from bench import _nginx


@dataclass
class Clients:
    """N WebSocket clients noting when each broadcast's last message reached them."""

    marker: str
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def expect(self, count: int) -> None:
        self.arrivals, self.expected = [], count
        self.done.clear()

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if not self.expected:
                continue  # before the broadcasts
            if message.type is aiohttp.WSMsgType.TEXT and self.marker in message.data:
                self.arrivals.append(time.time())
                if len(self.arrivals) >= self.expected:
                    self.done.set()

    def add(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Hold ``ws`` and read it from now on: aiohttp answers the server's pings only
        while the socket is read, and Daphne (like websockets) closes a socket whose
        pongs stop (ping every 20 s, 30 s to answer): a ramp longer than that used to
        lose its first clients before the broadcasts."""
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self.read(ws)))

    async def close(self) -> None:
        await c.gather_limited([ws.close() for ws in self.sockets], 200)
        for task in self.tasks:
            task.cancel()
        self.sockets = []


async def _connect_server(
    session: aiohttp.ClientSession, port: int, user_id: int, count: int, clients: Clients
) -> tuple[int, float]:
    from realtime.tickets import ticket_issue

    origin = {"Origin": f"http://127.0.0.1:{port}"}

    async def one() -> bool:
        url = f"ws://127.0.0.1:{port}/ws/wallboard/?ticket={ticket_issue(user_id=user_id)}"
        try:
            ws = await session.ws_connect(url, headers=origin, timeout=aiohttp.ClientWSTimeout(60))
            types: list[str] = []
            while len(types) < 2:
                message = await ws.receive(timeout=60)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    return False
                types.append(json.loads(message.data)["type"])
        except (TimeoutError, aiohttp.ClientError):
            return False
        if types != ["hello", "snapshot"]:
            await ws.close()
            return False
        clients.add(ws)
        return True

    started = time.monotonic()
    results = await c.gather_limited([one() for _ in range(count)], 50)
    return sum(results), time.monotonic() - started


async def _connect_plain(
    session: aiohttp.ClientSession, port: int, count: int, clients: Clients
) -> tuple[int, float]:
    async def one(index: int) -> bool:
        try:
            ws = await session.ws_connect(f"ws://127.0.0.1:{port}/?id={index}")
        except aiohttp.ClientError:
            return False
        clients.add(ws)
        return True

    started = time.monotonic()
    results = await c.gather_limited([one(i) for i in range(count)], 50)
    return sum(results), time.monotonic() - started


async def _broadcasts(
    clients: Clients, send: Any, rounds: int, gap: float, timeout: float
) -> dict[str, Any]:
    """``send()`` ``rounds`` times; each round waits for every client (or ``timeout``).

    The clients are frozen out of this process's garbage collector for the rounds
    (``clients_frozen``)."""
    with c.clients_frozen():
        return await _rounds(clients, send, rounds, gap, timeout)


async def _rounds(
    clients: Clients, send: Any, rounds: int, gap: float, timeout: float
) -> dict[str, Any]:
    to_all: list[float] = []
    each: list[float] = []
    missed = 0
    still_open = sum(1 for ws in clients.sockets if not ws.closed)
    for _ in range(rounds):
        clients.expect(len(clients.sockets))
        sent = time.time()
        await send()
        try:
            await asyncio.wait_for(clients.done.wait(), timeout)
        except TimeoutError:
            missed += clients.expected - len(clients.arrivals)
        if clients.arrivals:
            to_all.append(max(clients.arrivals) - sent)
            each.extend(t - sent for t in clients.arrivals)
        # Pacing, not waiting for an outcome: past the server's coalescing window, so
        # every broadcast is flushed at once rather than batched with the previous one.
        await asyncio.sleep(gap)
    return {
        "to_all": c.summary_ms(to_all),
        "each": c.summary_ms(each),
        "missed": missed,
        "open_at_start": still_open,
    }


def _seed(options: argparse.Namespace, env: dict[str, str]) -> tuple[int, int, int]:
    c.recreate_database(options.database_url, options.database)
    c.manage(env, "migrate", "--verbosity", "0")
    c.manage(env, "seed_demo")
    c.django_setup(env)
    from contactcenter.models import CallQueue, Membership

    supervisor = Membership.objects.select_related("user").get(user__username="supervisor")
    queue = CallQueue.objects.get(pbx_queue_name="support")
    return supervisor.user_id, supervisor.organization_id, queue.pk


async def _server_part(
    options: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    ids: tuple[int, int, int],
) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from realtime.groups import queues_group

    user_id, org_id, queue_id = ids
    layer = get_channel_layer()
    assert layer is not None
    servers = _nginx.Servers(options.server, env, workdir, options.processes, options.nginx)
    port, name = servers.port, options.server
    print(f"  {servers.describe()}", flush=True)
    result: dict[str, Any] = {"server": servers.describe()}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            # A few connections first, so the code paths are loaded before the baseline.
            warm = Clients("wallboard.update")
            await _connect_server(session, port, user_id, 10 * len(servers.ports), warm)
            await warm.close()
            rss0 = servers.rss_bytes()
            clients = Clients('"wallboard.update"')
            connected, ramp = await _connect_server(
                session, port, user_id, options.consoles, clients
            )
            rss1 = servers.rss_bytes()
            result["capacity"] = _capacity(options.consoles, connected, ramp, rss0, rss1)
            _print_capacity(name, result["capacity"])
            cpu0, nginx0 = servers.cpu_seconds(), servers.nginx_cpu_seconds()

            async def send() -> None:
                ping = {"type": "queues.changed", "queue_ids": [queue_id]}
                await layer.group_send(queues_group(org_id), ping)

            result["broadcast"] = await _broadcasts(
                clients, send, options.broadcasts, options.gap, options.timeout
            )
            result["broadcast"]["server_cpu_s"] = servers.cpu_seconds() - cpu0
            result["broadcast"]["nginx_cpu_s"] = servers.nginx_cpu_seconds() - nginx0
            _print_broadcast(name, result["broadcast"])
            await clients.close()
    finally:
        servers.close()
    return result


async def _ceiling_part(options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import redis.asyncio as aioredis

    channel = f"bench-fanout-{time.time_ns()}"
    with open(workdir / "ceiling.err", "w") as err:
        server = subprocess.Popen(  # noqa: S603 - our interpreter, our script
            [
                *(c.PYTHON, "-m", "bench.ws_ceiling"),
                *("--redis-url", options.redis_url, "--channel", channel),
            ],
            cwd=c.ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            preexec_fn=lambda: c.raise_nofile(),
        )
    assert server.stdout is not None
    publisher = aioredis.Redis.from_url(options.redis_url)
    result: dict[str, Any] = {}
    try:
        port = c.read_json_line(server.stdout, "port", 30)["port"]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            warm = Clients("x")
            await _connect_plain(session, port, 10, warm)
            await warm.close()
            rss0 = c.rss_bytes(server.pid)
            clients = Clients('"bench"')
            connected, ramp = await _connect_plain(session, port, options.consoles, clients)
            rss1 = c.rss_bytes(server.pid)
            result["capacity"] = _capacity(options.consoles, connected, ramp, rss0, rss1)
            _print_capacity("websockets", result["capacity"])
            cpu0 = c.cpu_seconds(server.pid)

            async def send() -> None:
                await publisher.publish(channel, json.dumps({"bench": time.time()}))

            result["broadcast"] = await _broadcasts(
                clients, send, options.broadcasts, options.gap, options.timeout
            )
            result["broadcast"]["server_cpu_s"] = c.cpu_seconds(server.pid) - cpu0
            _print_broadcast("websockets", result["broadcast"])
            await clients.close()
    finally:
        await publisher.aclose()
        c.stop(server)
    return result


def _capacity(asked: int, connected: int, ramp: float, rss0: int, rss1: int) -> dict[str, Any]:
    return {
        "asked": asked,
        "connected": connected,
        "ramp_s": ramp,
        "connects_per_s": connected / ramp if ramp else 0.0,
        "rss_before_mb": rss0 / 2**20,
        "rss_after_mb": rss1 / 2**20,
        "kb_per_connection": (rss1 - rss0) / max(1, connected) / 1024,
    }


def _print_capacity(name: str, cap: dict[str, Any]) -> None:
    print(
        f"  {name:<15} connected {cap['connected']:,}/{cap['asked']:,} in {cap['ramp_s']:.1f} s "
        f"({cap['connects_per_s']:.0f}/s); RSS {cap['rss_before_mb']:.1f} -> "
        f"{cap['rss_after_mb']:.1f} MB = {cap['kb_per_connection']:.1f} KB per connection",
        flush=True,
    )


def _print_broadcast(name: str, b: dict[str, Any]) -> None:
    to_all, each = b["to_all"], b["each"]
    print(
        f"  {name:<15} broadcast reaches all: p50 {to_all['p50_ms']:.0f} ms, "
        f"p95 {to_all['p95_ms']:.0f} ms, max {to_all['max_ms']:.0f} ms "
        f"({to_all['n']} broadcasts); each delivery p50 {each['p50_ms']:.0f} ms, "
        f"p99 {each['p99_ms']:.0f} ms; missed {b['missed']}; "
        f"sockets still open when the broadcasts began {b['open_at_start']:,}",
        flush=True,
    )


def main(options: argparse.Namespace) -> int:
    limit = c.raise_nofile()
    if limit < options.consoles * 2 + 100:
        print(f"open-files limit {limit} is too low for {options.consoles} consoles")
        return 2
    redis_url = options.redis_url
    env = c.server_env(
        database_url=c.db_url(options.database_url, options.database),
        redis_url=redis_url,
        prefix="bench-fanout",
    )
    # Every wallboard here is the one demo supervisor's: the per-user limit on open
    # sockets (realtime/sockets.py) would refuse all but the first few.
    env["REALTIME_MAX_SOCKETS_PER_USER"] = "0"
    print(f"fan-out: {options.consoles:,} consoles, {options.broadcasts} broadcasts")
    print(f"load average before: {c.load_average()}", flush=True)
    c.flush_redis(redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    try:
        ids = _seed(options, env)
        server = asyncio.run(_server_part(options, env, workdir, ids))
        ceiling = asyncio.run(_ceiling_part(options, workdir))
    finally:
        if not options.keep:
            c.drop_database(options.database_url, options.database)
        c.flush_redis(redis_url)
    d_all = server["broadcast"]["to_all"]["p95_ms"]
    w_all = ceiling["broadcast"]["to_all"]["p95_ms"]
    d_kb = server["capacity"]["kb_per_connection"]
    w_kb = ceiling["capacity"]["kb_per_connection"]
    d_rate = server["capacity"]["connects_per_s"]
    w_rate = ceiling["capacity"]["connects_per_s"]
    print(
        f"ratios ({options.server} / websockets): broadcast-to-all p95 "
        f"{c.ratio(d_all, w_all)}x, memory per connection {c.ratio(d_kb, w_kb)}x, "
        f"connections per second {c.ratio(d_rate, w_rate)}x"
    )
    lost = server["broadcast"]["missed"]
    ok = server["capacity"]["connected"] >= options.consoles and d_all <= 500 and not lost
    print(
        f"target (all {options.consoles:,} held, none missed, p95 to all <= 500 ms): "
        f"{'met' if ok else 'NOT met'}; load average after: {c.load_average()}; "
        f"logs in {workdir}"
    )
    if options.json:
        figures = {options.server: server, "ceiling": ceiling}
        Path(options.json).write_text(json.dumps(figures, indent=2))
    return 0 if server["capacity"]["connected"] >= options.consoles and not lost else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consoles", type=int, default=5000, help="clients (default 5000)")
    parser.add_argument("--broadcasts", type=int, default=20, help="broadcasts (default 20)")
    parser.add_argument(
        "--gap", type=float, default=0.5, help="seconds between broadcasts (default 0.5)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="give up on a broadcast after (s)"
    )
    parser.add_argument("--quick", action="store_true", help="500 consoles, 5 broadcasts")
    parser.add_argument("--database-url", default=c.DEFAULT_DATABASE_URL, help="server URL")
    parser.add_argument("--database", default="bench_fanout", help="database (recreated)")
    parser.add_argument(
        "--redis-url", default=f"{c.DEFAULT_REDIS}/11", help="Redis DB (flushed; default 11)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", help="also write the figures to this file")
    c.add_server_option(parser)
    _nginx.add_processes_option(parser)
    options = parser.parse_args(argv)
    c.check_server(parser, options)
    _nginx.check_processes(parser, options)
    if options.quick:
        options.consoles, options.broadcasts = 500, 5
    if options.consoles < 1 or options.broadcasts < 1:
        parser.error("--consoles and --broadcasts must be at least 1")
    return options


if __name__ == "__main__":
    sys.exit(main(parse_args()))
