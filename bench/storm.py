"""Reconnect-storm benchmark: every agent console dropped at once, and back with its snapshot.

    .venv/bin/python bench/storm.py                  # 5,000 agent consoles, 3 runs
    .venv/bin/python bench/storm.py --quick          # 500 consoles, 1 run
    .venv/bin/python bench/storm.py --quick --server granian

One Daphne process (``config.asgi``, DEBUG off, Redis channel layer) on a dedicated
PostgreSQL database and Redis database; or another ASGI server (``--server``), or
``--processes`` of them behind nginx (bench/_nginx.py: restarted together, nginx
stays). ``--consoles`` agents (extensions 1001..., all members of queue ``support``)
are created through the services; each opens ``/ws/agent/`` with its own one-time
ticket and waits for ``hello`` + ``snapshot`` (aiohttp clients, one asyncio loop in
this process). Then, per run:

* ``--drop restart`` (default): the server is stopped (SIGTERM: every socket drops) and a
  new one started on the same port; once it answers ``/healthz`` every console
  reconnects at once, each with a fresh ticket, as the pages would without their
  backoff's jitter (the worst case). ``--drop close``: the clients close their sockets
  themselves and reconnect at once to the same process.
* Printed: the time from the storm's start until every console has its snapshot
  (connections per second), each console's time to its snapshot (p50/p95/max), the
  refusals (a handshake that failed, a close instead of a snapshot, a timeout: each is
  retried with a fresh ticket after a jittered backoff; there must be none), the
  server's CPU seconds during the storm and its RSS per connection after it.
  ``--profile`` attaches py-spy to the (first) server process for each storm (raw
  stacks beside its logs).

The ceiling, in the same run on the same machine, once the server is stopped: a plain
``websockets`` server (bench/ws_ceiling.py) that greets every connection with a
``hello`` and a ``snapshot`` message of ``--snapshot-bytes``, restarted the same way
with the same number of clients reconnecting at once. Several runs: the median and best.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c
from bench import _nginx

BACKOFF_FIRST_S = 2.0  # a refused console retries as the pages do (live.js): full jitter
BACKOFF_MAX_S = 15.0


def _seed(options: argparse.Namespace, env: dict[str, str]) -> list[int]:
    """Migrate, seed the demo, add agents up to ``--consoles``; their user ids."""
    c.recreate_database(options.database_url, options.database)
    c.manage(env, "migrate", "--verbosity", "0")
    c.manage(env, "seed_demo")
    c.django_setup(env)
    from django.db import connection, transaction

    from contactcenter.models import Agent, CallQueue, QueueMembership
    from contactcenter.services.organizations import agent_create, member_create

    support = CallQueue.objects.get(pbx_queue_name="support")
    org = support.organization
    with transaction.atomic():
        for index in range(Agent.objects.filter(organization=org).count(), options.consoles):
            extension = str(1001 + index)
            membership = member_create(
                organization=org, username=f"storm{extension}", password=None, role="agent"
            )
            agent = agent_create(
                organization=org,
                name=f"Storm {extension}",
                extension=extension,
                user=membership.user,
            )
            QueueMembership.objects.create(organization=org, queue=support, agent=agent)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a database in service has them
    agents = Agent.objects.filter(organization=org, user__isnull=False, is_active=True)
    user_ids = [a.user_id for a in agents.order_by("extension") if a.user_id is not None]
    return user_ids[: options.consoles]


def _session() -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    # aiohttp sends a GET again, once, when the server drops the connection: with the
    # same one-time ticket, which the server then refuses (4401), where a browser would
    # have seen the drop. Each attempt here is a new handshake with a new ticket.
    session._retry_connection = False
    return session


@dataclass
class Console:
    """One console: the URL it opens (a fresh one per attempt) and its socket."""

    url: Callable[[], str]
    ws: aiohttp.ClientWebSocketResponse | None = None
    reader: asyncio.Task[None] | None = None


@dataclass
class Fleet:
    """The consoles of one server, connected and reconnected together."""

    session: aiohttp.ClientSession
    consoles: list[Console]
    headers: dict[str, str]
    expect: tuple[str, ...]
    timeout: float
    refusals: dict[str, int] = field(default_factory=dict)

    def refused(self, why: str) -> None:
        self.refusals[why] = self.refusals.get(why, 0) + 1

    async def attempt(self, console: Console) -> bool:
        """One handshake up to the snapshot; False (counted) if it did not get there."""
        try:
            ws = await self.session.ws_connect(
                console.url(), headers=self.headers, timeout=aiohttp.ClientWSTimeout(self.timeout)
            )
        except aiohttp.WSServerHandshakeError as exc:
            self.refused(f"handshake {exc.status}")
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.refused(type(exc).__name__)
            return False
        try:
            for expected in self.expect:
                message = await ws.receive(timeout=self.timeout)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    self.refused(f"close {ws.close_code}")
                    await ws.close()
                    return False
                kind = json.loads(message.data).get("type")
                if kind != expected:
                    self.refused(f"message {kind}")
                    await ws.close()
                    return False
        except TimeoutError:
            self.refused("no snapshot in time")
            await ws.close()
            return False
        console.ws = ws
        console.reader = asyncio.create_task(self._read(ws))
        return True

    @staticmethod
    async def _read(ws: aiohttp.ClientWebSocketResponse) -> None:
        # Read on: aiohttp answers the server's pings only while the socket is read.
        async for _ in ws:
            pass

    async def connect(self, console: Console, started: float, deadline: float) -> float | None:
        """Connect (retrying with the pages' backoff) until ``deadline``; seconds from
        ``started`` to the snapshot, or None."""
        failures = 0
        while time.monotonic() < deadline:
            if await self.attempt(console):
                return time.monotonic() - started
            ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**failures)
            failures += 1
            await asyncio.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not secrets
        return None

    async def storm(self, limit: int, give_up: float) -> dict[str, Any]:
        """Every console connects at once (at most ``limit`` handshakes in flight)."""
        self.refusals = {}
        started = time.monotonic()
        deadline = started + give_up
        times = await c.gather_limited(
            [self.connect(console, started, deadline) for console in self.consoles], limit
        )
        done = [t for t in times if t is not None]
        to_all = max(done) if len(done) == len(times) and done else float("nan")
        return {
            "consoles": len(times),
            "connected": len(done),
            "to_all_s": to_all,
            "per_s": len(done) / to_all if done and to_all == to_all else 0.0,
            "each": c.summary_ms(done),
            "refusals": dict(self.refusals),
            "refused": sum(self.refusals.values()),
        }

    async def dropped(self, wait: float = 30.0) -> int:
        """Wait for every socket to be closed by the server; how many were."""
        readers = [c.reader for c in self.consoles if c.reader is not None]
        if readers:
            await asyncio.wait(readers, timeout=wait)
        for console in self.consoles:
            if console.reader is not None and not console.reader.done():
                console.reader.cancel()
        closed = sum(1 for console in self.consoles if console.ws is not None and console.ws.closed)
        for console in self.consoles:
            console.ws, console.reader = None, None
        return closed

    async def close(self) -> None:
        sockets = [c.ws for c in self.consoles if c.ws is not None]
        await c.gather_limited([ws.close() for ws in sockets], 200)
        await self.dropped(wait=5.0)


async def _storm_runs(
    options: argparse.Namespace,
    fleet: Fleet,
    restart: Callable[[], Awaitable[int]],
    cpu: Callable[[], float],
    rss: Callable[[], int],
    name: str,
    profile: Callable[[int], Callable[[], None]] | None = None,
) -> list[dict[str, Any]]:
    """The first connection of every console, then ``--runs`` storms."""
    rss0 = rss()
    first = await fleet.storm(options.concurrency, options.give_up)
    rss1 = rss()
    kb = (rss1 - rss0) / max(1, first["connected"]) / 1024
    print(
        f"  {name:<15} first connections: {first['connected']:,}/{first['consoles']:,} in "
        f"{first['to_all_s']:.1f} s ({first['per_s']:.0f}/s); refused {first['refused']} "
        f"{first['refusals'] or ''}; "
        f"RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MB = {kb:.1f} KB per connection",
        flush=True,
    )
    runs = []
    for number in range(1, options.runs + 1):
        if options.drop == "restart":
            await restart()
            closed = await fleet.dropped()
        else:
            await fleet.close()
            closed = len(fleet.consoles)
        stop_profile = profile(number) if profile is not None else None
        cpu0 = cpu()
        result = await fleet.storm(options.concurrency, options.give_up)
        result["cpu_s"] = cpu() - cpu0
        if stop_profile is not None:
            stop_profile()
        result["dropped"] = closed
        runs.append(result)
        each = result["each"]
        print(
            f"  {name:<15} storm {number}: {result['connected']:,}/{result['consoles']:,} "
            f"with their snapshot in {result['to_all_s']:.2f} s ({result['per_s']:.0f}/s); "
            f"each p50 {each['p50_ms']:.0f} ms, p95 {each['p95_ms']:.0f} ms, "
            f"max {each['max_ms']:.0f} ms; refused {result['refused']} {result['refusals'] or ''}; "
            f"server CPU {result['cpu_s']:.1f} s "
            f"({result['cpu_s'] / max(1, result['connected']) * 1e6:.0f} µs a console)",
            flush=True,
        )
    return runs


async def _server_part(
    options: argparse.Namespace, env: dict[str, str], workdir: Path, user_ids: list[int]
) -> list[dict[str, Any]]:
    from realtime.tickets import ticket_issue

    servers = _nginx.Servers(options.server, env, workdir, options.processes, options.nginx)
    port = servers.port
    print(f"  {servers.describe()}", flush=True)

    def agent_url(user_id: int) -> Callable[[], str]:
        return lambda: f"ws://127.0.0.1:{port}/ws/agent/?ticket={ticket_issue(user_id=user_id)}"

    consoles = [Console(url=agent_url(user_id)) for user_id in user_ids]

    async def restart() -> int:
        return servers.restart()[0]

    def profile(number: int) -> Callable[[], None]:
        spy = c.profile(servers.pids[0], workdir / f"{options.server}-storm-{number}.stacks")
        time.sleep(1.0)  # py-spy attached before the storm begins

        def stop() -> None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)

        return stop

    try:
        async with _session() as session:
            fleet = Fleet(
                session,
                consoles,
                headers={"Origin": f"http://127.0.0.1:{port}"},
                expect=("hello", "snapshot"),
                timeout=options.timeout,
            )
            with c.clients_frozen():
                runs = await _storm_runs(
                    options,
                    fleet,
                    restart,
                    servers.cpu_seconds,
                    servers.rss_bytes,
                    options.server,
                    profile if options.profile else None,
                )
            await fleet.close()
    finally:
        servers.close()
    return runs


async def _ceiling_part(options: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    port = c.free_port()
    err = open(workdir / "ceiling.err", "w")  # noqa: SIM115 - closed below

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our script
            [
                *(c.PYTHON, "-m", "bench.ws_ceiling", "--port", str(port)),
                *("--redis-url", options.redis_url, "--channel", f"bench-storm-{time.time_ns()}"),
                *("--greet", str(options.snapshot_bytes)),
            ],
            cwd=c.ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            preexec_fn=lambda: c.raise_nofile(),
        )
        assert process.stdout is not None
        c.read_json_line(process.stdout, "port", 30)
        return process

    server = start()

    async def restart() -> int:
        nonlocal server
        c.stop(server)
        server = start()
        return server.pid

    def plain_url(index: int) -> Callable[[], str]:
        return lambda: f"ws://127.0.0.1:{port}/?id={index}"

    consoles = [Console(url=plain_url(index)) for index in range(options.consoles)]
    try:
        async with _session() as session:
            fleet = Fleet(
                session, consoles, headers={}, expect=("hello", "snapshot"), timeout=options.timeout
            )
            with c.clients_frozen():
                runs = await _storm_runs(
                    options,
                    fleet,
                    restart,
                    lambda: c.cpu_seconds(server.pid),
                    lambda: c.rss_bytes(server.pid),
                    "websockets",
                )
            await fleet.close()
    finally:
        c.stop(server)
        err.close()
    return runs


def _median_line(name: str, runs: list[dict[str, Any]]) -> str:
    to_all = [r["to_all_s"] for r in runs]
    rates = [r["per_s"] for r in runs]
    p95 = [r["each"]["p95_ms"] for r in runs]
    refused = sum(r["refused"] for r in runs)
    return (
        f"  {name:<15} every snapshot within: median {c.median(to_all):.2f} s, best "
        f"{min(to_all):.2f} s ({c.median(rates):.0f}/s median); each p95 median "
        f"{c.median(p95):.0f} ms; refused {refused} in {len(runs)} storms"
    )


def main(options: argparse.Namespace) -> int:
    limit = c.raise_nofile()
    if limit < options.consoles * 2 + 100:
        print(f"open-files limit {limit} is too low for {options.consoles} consoles")
        return 2
    env = c.server_env(
        database_url=c.db_url(options.database_url, options.database),
        redis_url=options.redis_url,
        prefix="bench-storm",
    )
    print(
        f"reconnect storm: {options.consoles:,} agent consoles, drop by {options.drop}, "
        f"{options.runs} runs, at most {options.concurrency} handshakes in flight"
    )
    print(f"load average before: {c.load_average()}", flush=True)
    c.flush_redis(options.redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    try:
        user_ids = _seed(options, env)
        if len(user_ids) < options.consoles:
            print(f"only {len(user_ids)} agents with a user")
            return 2
        server = asyncio.run(_server_part(options, env, workdir, user_ids))
        ceiling = asyncio.run(_ceiling_part(options, workdir))
    finally:
        if not options.keep:
            c.drop_database(options.database_url, options.database)
        c.flush_redis(options.redis_url)
    print(_median_line(options.server, server))
    print(_median_line("websockets", ceiling))
    d = c.median([r["to_all_s"] for r in server])
    w = c.median([r["to_all_s"] for r in ceiling])
    refused = sum(r["refused"] for r in server)
    complete = all(r["connected"] == r["consoles"] for r in server)
    ok = complete and refused == 0 and d <= 10.0
    print(
        f"ratio ({options.server} / websockets), median time to every snapshot: "
        f"{c.ratio(d, w)}x; "
        f"target (all {options.consoles:,} back within 10 s, none refused): "
        f"{'met' if ok else 'NOT met'}; load average after: {c.load_average()}; "
        f"logs in {workdir}"
    )
    if options.json:
        figures = {options.server: server, "ceiling": ceiling}
        Path(options.json).write_text(json.dumps(figures, indent=2))
    return 0 if complete and refused == 0 else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consoles", type=int, default=5000, help="agent consoles (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="storms per server (default 3)")
    parser.add_argument(
        "--drop",
        choices=("restart", "close"),
        default="restart",
        help="restart the server (default), or close the clients' sockets",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1000,
        help="handshakes in flight at once from this client process (default 1000)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="one handshake up to its snapshot (s)"
    )
    parser.add_argument(
        "--give-up", type=float, default=120.0, help="a console stops retrying after (s)"
    )
    parser.add_argument(
        "--snapshot-bytes",
        type=int,
        default=2048,
        help="the ceiling's snapshot message (default 2048, about an agent console's)",
    )
    parser.add_argument("--quick", action="store_true", help="500 consoles, 1 run")
    parser.add_argument("--database-url", default=c.DEFAULT_DATABASE_URL, help="server URL")
    parser.add_argument("--database", default="bench_storm", help="database (recreated)")
    parser.add_argument(
        "--redis-url", default=f"{c.DEFAULT_REDIS}/7", help="Redis DB (flushed; default 7)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy on the (first) server process during each storm (raw stacks in the "
        "logs' directory)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    c.add_server_option(parser)
    _nginx.add_processes_option(parser)
    options = parser.parse_args(argv)
    c.check_server(parser, options)
    _nginx.check_processes(parser, options)
    if options.quick:
        options.consoles, options.runs = 500, 1
    if options.consoles < 1 or options.runs < 1 or options.concurrency < 1:
        parser.error("--consoles, --runs and --concurrency must be at least 1")
    return options


if __name__ == "__main__":
    sys.exit(main(parse_args()))
