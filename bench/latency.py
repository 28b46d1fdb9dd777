"""Latency benchmark: an AMI frame leaving the PBX to the message it causes on a console.

    .venv/bin/python bench/latency.py                # 1,000 consoles, 2,000 events/s, 20 s
    .venv/bin/python bench/latency.py --quick        # 200 consoles, 1,000 events/s, 8 s

Real processes on a dedicated PostgreSQL database and Redis database: the AMI
simulator (bench/latency_simulator.py, one phone per agent, all in queue ``support``,
the dialplan noise on), ``manage.py run_bridge`` and one Daphne process (DEBUG off;
or another ASGI server, ``--server``). The agents (``--consoles`` of them, extensions
1001...) are created through the services; each opens ``/ws/agent/`` with a one-time
ticket (aiohttp clients, one asyncio loop in this process). Then the simulator places
calls at ``--rate`` AMI events/s.

Probes: every ``AgentCalled`` (its ``call.ringing`` message on that agent's console) and
every ``AgentConnect`` (``call.answered``), matched by extension and caller number.
Latency = the message's arrival at the console - the AMI frame's ``write`` in the
simulator (one machine, one wall clock). Printed: p50/p95/p99/max and how many probes
never arrived. Probes of the last ``--tail`` seconds are left out (the load stops). A
probe that never arrived is "superseded" when its console got a later message of that call
(a publisher that fell behind renders the call as it is by then: a ring that was
answered before it was rendered arrives as ``call.answered``), else "missing".

Ceiling, in the same run, once those processes are stopped: a plain ``websockets``
server (bench/ws_ceiling.py) with the same number of clients; this process publishes
``--rate`` Redis pub/sub messages a second, each stamped and addressed to one client,
and the server forwards each to its client: the Redis + WebSocket hop alone, without
the bridge, the database, rendering or the channel layer.
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
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

SECRET = "bench-latency"
# The bridge's own view of two stages (its /metrics): each batch's transaction in the
# writer, and commit -> messages handed to the channel layer. (cc_bridge_event_lag_seconds
# is not read: it starts at the AMI Timestamp, which the latency simulator's clock sets,
# not this host's wall clock.)
_STAGES = ("cc_bridge_batch_seconds", "cc_publish_lag_seconds")
_PROBE_MESSAGES = {"call.ringing": "ringing", "call.answered": "answered"}


def _seed(options: argparse.Namespace, env: dict[str, str]) -> list[tuple[str, int]]:
    """Migrate, seed the demo, add agents up to ``--consoles``; (extension, user id)s."""
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
                organization=org, username=f"bench{extension}", password=None, role="agent"
            )
            agent = agent_create(
                organization=org,
                name=f"Bench {extension}",
                extension=extension,
                user=membership.user,
            )
            QueueMembership.objects.create(organization=org, queue=support, agent=agent)
    # Planner statistics, as a database in service has them (autovacuum would get there
    # later): without them PostgreSQL joins the 1,000 members by nested loop and every
    # console's snapshot is several times slower (docs/benchmarks.md, "Figures the code's
    # comments rest on").
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    agents = Agent.objects.filter(organization=org, user__isnull=False).order_by("extension")
    pairs = [(a.extension, a.user_id) for a in agents if a.user_id is not None]
    return pairs[: options.consoles]


class Consoles:
    """Agent consoles noting the first arrival of each probe message."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str, str], float] = {}
        # (extension, caller) -> when that console last got any message of that call
        self.call_messages: dict[tuple[str, str], float] = {}
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.refused = 0  # handshakes that failed (each retried with a fresh ticket)

    async def read(self, ws: aiohttp.ClientWebSocketResponse, extension: str) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.time()
            text = message.data
            if '"call.' not in text:
                continue
            body = json.loads(text)
            call = body["data"].get("call")
            if call is None:  # call.removed
                continue
            self.call_messages[(extension, call["caller_number"])] = now
            kind = _PROBE_MESSAGES.get(body["type"])
            if kind is not None:
                self.arrivals.setdefault((kind, extension, call["caller_number"]), now)

    async def close(self) -> None:
        await c.gather_limited([ws.close() for ws in self.sockets], 200)
        for task in self.tasks:
            task.cancel()


async def _open_consoles(
    session: aiohttp.ClientSession, port: int, agents: list[tuple[str, int]], consoles: Consoles
) -> int:
    from realtime.tickets import ticket_issue

    origin = {"Origin": f"http://127.0.0.1:{port}"}

    async def one(extension: str, user_id: int) -> bool:
        for _ in range(3):
            if await attempt(extension, user_id):
                return True
            consoles.refused += 1
        return False

    async def attempt(extension: str, user_id: int) -> bool:
        url = f"ws://127.0.0.1:{port}/ws/agent/?ticket={ticket_issue(user_id=user_id)}"
        try:
            ws = await session.ws_connect(url, headers=origin)
            for expected in ("hello", "snapshot"):
                message = await ws.receive(timeout=60)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    return False
                if json.loads(message.data)["type"] != expected:
                    return False
        except (TimeoutError, aiohttp.ClientError):
            return False
        consoles.sockets.append(ws)
        consoles.tasks.append(asyncio.create_task(consoles.read(ws, extension)))
        return True

    results = await c.gather_limited([one(e, u) for e, u in agents], 50)
    return sum(results)


def _latencies(
    notes: list[list[Any]], consoles: Consoles, until: float
) -> tuple[list[float], int, dict[str, int]]:
    """(latencies, probes counted, probes never arrived: superseded / missing, by kind) of
    the probes sent before ``until``."""
    sent: dict[tuple[str, str, str], float] = {}
    for kind, extension, caller, at in notes:
        if at < until:
            sent.setdefault((kind, extension, caller), at)
    latencies = [consoles.arrivals[k] - t for k, t in sent.items() if k in consoles.arrivals]
    absent: dict[str, int] = {}
    for key, at in sent.items():
        if key not in consoles.arrivals:
            kind, extension, caller = key
            later = consoles.call_messages.get((extension, caller), 0.0) > at
            name = f"{kind} {'superseded' if later else 'missing'}"
            absent[name] = absent.get(name, 0) + 1
    return latencies, len(sent), absent


async def _real_part(
    options: argparse.Namespace, env: dict[str, str], workdir: Path, agents: list[tuple[str, int]]
) -> dict[str, Any]:
    record = workdir / "probes.json"
    simulator = subprocess.Popen(  # noqa: S603 - our interpreter and script
        [
            *(c.PYTHON, "-m", "bench.latency_simulator", "--agents", str(options.consoles)),
            *("--rate", str(options.rate), "--seconds", str(options.seconds)),
            *("--secret", SECRET, "--record", str(record)),
        ],
        cwd=c.ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert simulator.stdin is not None and simulator.stdout is not None
    bridge = daphne = None
    profilers: list[subprocess.Popen[Any]] = []
    result: dict[str, Any] = {}
    try:
        ami = c.read_json_line(simulator.stdout, "port", 30)["port"]
        metrics_port = c.free_port()
        bridge_env = {
            **env,
            "AMI_URL": f"ami://bridge:{SECRET}@127.0.0.1:{ami}",
            "METRICS_PORT": str(metrics_port),
        }
        with open(workdir / "bridge.log", "w") as log:
            bridge = subprocess.Popen(  # noqa: S603
                [c.PYTHON, "manage.py", "run_bridge"],
                cwd=c.ROOT,
                env=bridge_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        c.read_json_line(simulator.stdout, "ready", 120)
        port = c.free_port()
        with open(workdir / "daphne.log", "w") as log:
            daphne = c.start_server(options.server, env, port, log)
        consoles = Consoles()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            started = time.monotonic()
            connected = await _open_consoles(session, port, agents, consoles)
            print(
                f"  {connected:,}/{len(agents):,} consoles connected in "
                f"{time.monotonic() - started:.1f} s ({consoles.refused} attempts refused "
                "and retried with a new ticket)",
                flush=True,
            )
            cpu0 = {n: c.cpu_seconds(p.pid) for n, p in _procs(simulator, bridge, daphne)}
            if options.profile:
                profilers = [
                    c.profile(proc.pid, workdir / f"{name}.pyspy.txt")
                    for name, proc in _procs(simulator, bridge, daphne)
                    if name != "simulator"
                ]
            with c.clients_frozen():
                load_start = time.time()
                simulator.stdin.write("go\n")
                simulator.stdin.flush()
                loop = asyncio.get_running_loop()
                finished = await loop.run_in_executor(
                    None, c.read_json_line, simulator.stdout, "finished", options.seconds + 120
                )
                # Messages still on their way (a backlog): until none arrived for --settle s.
                count = -1
                while count != len(consoles.arrivals):
                    count = len(consoles.arrivals)
                    await asyncio.sleep(options.settle)
            cpu = {n: c.cpu_seconds(p.pid) - cpu0[n] for n, p in _procs(simulator, bridge, daphne)}
            stages = c.histograms(f"http://127.0.0.1:{metrics_port}/metrics", _STAGES)
            for profiler in profilers:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                profiler.wait(60)
            await consoles.close()
        simulator.stdin.close()
        c.read_json_line(simulator.stdout, "recorded", 60)
        notes = json.loads(record.read_text())
        until = finished["finished"] - options.tail
        latencies, probes, absent = _latencies(notes, consoles, until)
        elapsed = finished["finished"] - load_start
        result = {
            "consoles": connected,
            "refused_attempts": consoles.refused,
            "events": finished["events"],
            "calls": finished["calls"],
            "events_per_s": finished["events"] / elapsed if elapsed else 0.0,
            "probes": probes,
            "not_arrived": sum(absent.values()),
            "not_arrived_by_kind": absent,
            "latency": c.summary_ms(latencies),
            "cpu_s": cpu,
            "stages": stages,
        }
    finally:
        c.stop(daphne)
        c.stop(bridge)
        if simulator.stdin and not simulator.stdin.closed:
            simulator.stdin.close()
        c.stop(simulator)
    return result


def _procs(
    *processes: subprocess.Popen[Any] | c.Server | None,
) -> list[tuple[str, subprocess.Popen[Any] | c.Server]]:
    names = ("simulator", "bridge", "server")
    return [(n, p) for n, p in zip(names, processes, strict=True) if p is not None]


async def _ceiling_part(options: argparse.Namespace) -> dict[str, Any]:
    import redis.asyncio as aioredis

    channel = f"bench-latency-{time.time_ns()}"
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [
            *(c.PYTHON, "-m", "bench.ws_ceiling"),
            *("--redis-url", options.redis_url, "--channel", channel),
        ],
        cwd=c.ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: c.raise_nofile(),
    )
    assert server.stdout is not None
    publisher = aioredis.Redis.from_url(options.redis_url)
    latencies: list[float] = []
    sent = 0
    try:
        port = c.read_json_line(server.stdout, "port", 30)["port"]

        async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    latencies.append(time.time() - json.loads(message.data)["t"])

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(index: int) -> aiohttp.ClientWebSocketResponse:
                return await session.ws_connect(f"ws://127.0.0.1:{port}/?id={index}")

            sockets = await c.gather_limited([one(i) for i in range(options.consoles)], 50)
            tasks = [asyncio.create_task(read(ws)) for ws in sockets]
            with c.clients_frozen():
                rng = random.Random(options.seed)  # noqa: S311 - addressing, not secrets
                loop = asyncio.get_running_loop()
                start = loop.time()
                duration = options.seconds
                while (now := loop.time()) - start < duration:
                    due = int((now - start) * options.rate) - sent
                    for _ in range(due):
                        body = {"to": rng.randrange(options.consoles), "t": time.time()}
                        await publisher.publish(channel, json.dumps(body))
                    sent += max(0, due)
                    await asyncio.sleep(0.001)  # pacing the publisher at --rate
                count = -1
                while count != len(latencies):
                    count = len(latencies)
                    await asyncio.sleep(0.5)
            await c.gather_limited([ws.close() for ws in sockets], 200)
            for task in tasks:
                task.cancel()
    finally:
        await publisher.aclose()
        c.stop(server)
    return {"sent": sent, "not_arrived": sent - len(latencies), "latency": c.summary_ms(latencies)}


def _line(name: str, lat: dict[str, float]) -> str:
    return (
        f"  {name:<10} p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms  "
        f"p99 {lat['p99_ms']:.1f} ms  max {lat['max_ms']:.1f} ms  ({lat['n']:,} messages)"
    )


def main(options: argparse.Namespace) -> int:
    c.raise_nofile()
    env = c.server_env(
        database_url=c.db_url(options.database_url, options.database),
        redis_url=options.redis_url,
        prefix="bench-latency",
    )
    print(
        f"latency: {options.consoles:,} consoles, {options.rate:,.0f} AMI events/s for "
        f"{options.seconds:.0f} s; load average before: {c.load_average()}",
        flush=True,
    )
    c.flush_redis(options.redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    try:
        agents = _seed(options, env)
        real = asyncio.run(_real_part(options, env, workdir, agents))
        print(
            f"  stack: {real['events']:,} AMI events, {real['calls']:,} calls, "
            f"{real['events_per_s']:,.0f} events/s offered; {real['probes']:,} probes, "
            f"{real['not_arrived']} never arrived {real['not_arrived_by_kind'] or ''}; CPU s "
            + ", ".join(f"{k} {v:.1f}" for k, v in real["cpu_s"].items()),
            flush=True,
        )
        print(_line("stack", real["latency"]), flush=True)
        for name, stage in real["stages"].items():
            print(
                f"    {name}: mean {stage['mean_ms']:.1f} ms, p50 ~{stage['p50_ms']:.0f} ms, "
                f"p99 ~{stage['p99_ms']:.0f} ms (buckets; {stage['n']:,.0f} observed)",
                flush=True,
            )
        ceiling = asyncio.run(_ceiling_part(options))
        print(_line("ceiling", ceiling["latency"]) + f", {ceiling['not_arrived']} lost")
    finally:
        if not options.keep:
            c.drop_database(options.database_url, options.database)
        c.flush_redis(options.redis_url)
    p99, ceiling_p99 = real["latency"]["p99_ms"], ceiling["latency"]["p99_ms"]
    print(
        f"ratio stack / ceiling: p50 "
        f"{c.ratio(real['latency']['p50_ms'], ceiling['latency']['p50_ms'])}x, "
        f"p99 {c.ratio(p99, ceiling_p99)}x; target p99 < 50 ms: "
        f"{'met' if p99 < 50 and not real['not_arrived'] else 'NOT met'}; "
        f"load average after: {c.load_average()}; logs in {workdir}"
    )
    if options.json:
        Path(options.json).write_text(json.dumps({"stack": real, "ceiling": ceiling}, indent=2))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consoles", type=int, default=1000, help="agents with a console")
    parser.add_argument("--rate", type=float, default=2000.0, help="AMI events/s (default 2000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration (default 20)")
    parser.add_argument(
        "--tail", type=float, default=1.0, help="leave out probes of the last N s (default 1)"
    )
    parser.add_argument(
        "--settle", type=float, default=5.0, help="stop when no message came for N s (default 5)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="200 consoles, 1000 events/s, 8 s")
    parser.add_argument("--database-url", default=c.DEFAULT_DATABASE_URL, help="server URL")
    parser.add_argument("--database", default="bench_latency", help="database (recreated)")
    parser.add_argument(
        "--redis-url", default=f"{c.DEFAULT_REDIS}/10", help="Redis DB (flushed; default 10)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="attach py-spy (a dev tool: pip install py-spy) to the bridge and the server "
        "under load",
    )
    c.add_server_option(parser)
    options = parser.parse_args(argv)
    c.check_server(parser, options)
    if options.quick:
        options.consoles, options.rate, options.seconds = 200, 1000.0, 8.0
    if options.consoles < 1 or options.rate <= 0 or options.seconds <= options.tail:
        parser.error("need --consoles >= 1, --rate > 0 and --seconds > --tail")
    return options


if __name__ == "__main__":
    sys.exit(main(parse_args()))
