"""REST benchmark: the call list and the screen-pop lookup on a large database.

    .venv/bin/python bench/rest.py                   # 1M calls, 100k contacts, 10 s each
    .venv/bin/python bench/rest.py --quick           # 100k calls, 10k contacts, 4 s each
    .venv/bin/python bench/rest.py --quick --processes 2

A dedicated PostgreSQL database, migrated and seeded with the demo organization, then
bulk-loaded with COPY: ``--contacts`` contacts with one phone each and ``--calls``
calls over the last 90 days (the demo agents and queues; a third of the callers are
contacts). One Daphne process (DEBUG off) serves it (or another ASGI server,
``--server``; or ``--processes`` of them behind nginx, bench/_nginx.py);
``--concurrency`` aiohttp clients in this process send requests back to back for
``--seconds`` per endpoint, with a JWT:

* ``GET /api/v1/calls/`` as the supervisor (every call) and as the agent ``alice``
  (the calls she handled or was transferred), first page (50 rows);
* ``GET /api/v1/contacts/lookup/?phone=`` as ``alice``, a random contact's number;
* the ceiling: ``GET /healthz`` on the same server (Django's ASGI handler, no
  database, no DRF).

Printed per endpoint: requests/s, p50/p99 latency, errors, and the ratio of its
requests/s to the ceiling's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import psycopg
from psycopg.types.json import Jsonb

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c
from bench import _nginx

PASSWORD = "demo-pass-2026"  # seed_demo's


def _rows(model: Any, count: int, values: Callable[[int], dict[str, Any]]) -> Iterator[list[Any]]:
    """``count`` rows of ``model``'s concrete columns (defaults where ``values`` is silent)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for index in range(count):
        given = values(index)
        row = []
        for f in fields:
            if f.attname in given:
                value = given[f.attname]
            elif f.has_default():
                value = f.get_default()
            else:
                value = None if f.null else ""
            row.append(Jsonb(value) if isinstance(value, dict | list) else value)
        yield row


def _copy(url: str, model: Any, rows: Iterator[list[Any]]) -> None:
    table = model._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in model._meta.concrete_fields if not f.primary_key)
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'ANALYZE "{table}"')


def load(options: argparse.Namespace, env: dict[str, str]) -> list[str]:
    """Create, migrate, seed and bulk-load the database; returns some contacts' numbers."""
    c.recreate_database(options.database_url, options.database)
    c.manage(env, "migrate", "--verbosity", "0")
    c.manage(env, "seed_demo")
    c.django_setup(env)
    from contactcenter.models import Agent, Call, CallQueue, Organization
    from crm.models import Contact, ContactPhone

    url = env["DATABASE_URL"]
    org = Organization.objects.get(slug="acme")
    agents = list(Agent.objects.filter(organization=org).values_list("pk", flat=True))
    queues = list(CallQueue.objects.filter(organization=org).values_list("pk", flat=True))
    rng = random.Random(options.seed)  # noqa: S311 - synthetic data
    now = datetime.now(UTC)
    started = time.monotonic()
    base_contact = (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _copy(
        url,
        Contact,
        _rows(
            Contact,
            options.contacts,
            lambda i: {
                "organization_id": org.pk,
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "email": f"c{i}@example.com",
                "created_at": now,
                "updated_at": now,
            },
        ),
    )
    numbers = [f"+1555{2_000_000 + i:07d}" for i in range(options.contacts)]
    _copy(
        url,
        ContactPhone,
        _rows(
            ContactPhone,
            options.contacts,
            lambda i: {
                "organization_id": org.pk,
                "contact_id": base_contact + i,
                "number": numbers[i],
            },
        ),
    )

    def call(i: int) -> dict[str, Any]:
        at = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        answered = rng.random() < 0.8
        return {
            "organization_id": org.pk,
            "source": "ami",
            "external_id": f"bench-{i}",
            "direction": "inbound",
            "status": "completed" if answered else "abandoned",
            "caller_number": rng.choice(numbers)
            if rng.random() < 0.33
            else f"+1212{rng.randrange(10**7):07d}",
            "callee_number": "+15551230000",
            "queue_id": rng.choice(queues),
            "agent_id": rng.choice(agents) if answered else None,
            "started_at": at,
            "queued_at": at,
            "answered_at": at + timedelta(seconds=20) if answered else None,
            "ended_at": at + timedelta(seconds=200),
            "wait_seconds": 20,
            "talk_seconds": 180 if answered else None,
            "created_at": at,
            "updated_at": at,
        }

    _copy(url, Call, _rows(Call, options.calls, call))
    print(
        f"  loaded {options.contacts:,} contacts (+phones) and {options.calls:,} calls "
        f"with COPY in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return rng.sample(numbers, min(1000, len(numbers)))


async def _token(session: aiohttp.ClientSession, base: str, username: str) -> str:
    async with session.post(
        f"{base}/api/v1/auth/token/", data={"username": username, "password": PASSWORD}
    ) as response:
        response.raise_for_status()
        return str((await response.json())["access"])


async def _hammer(
    session: aiohttp.ClientSession,
    urls: Callable[[], str],
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            async with session.get(urls(), headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors[response.status] = errors.get(response.status, 0) + 1
            latencies.append(time.monotonic() - started)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "errors": errors,
        **c.summary_ms(latencies),
    }


async def measure(options: argparse.Namespace, port: int, numbers: list[str]) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(options.seed)  # noqa: S311
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        supervisor = {"Authorization": f"Bearer {await _token(session, base, 'supervisor')}"}
        alice = {"Authorization": f"Bearer {await _token(session, base, 'alice')}"}
        cases: list[tuple[str, Callable[[], str], dict[str, str]]] = [
            ("healthz (ceiling)", lambda: f"{base}/healthz", {}),
            ("calls, supervisor", lambda: f"{base}/api/v1/calls/", supervisor),
            ("calls, agent", lambda: f"{base}/api/v1/calls/", alice),
            (
                "contacts/lookup",
                lambda: f"{base}/api/v1/contacts/lookup/?phone={quote(rng.choice(numbers))}",
                alice,
            ),
        ]
        for name, urls, headers in cases:
            # A short warm-up (connections, caches), then the measured run.
            await _hammer(session, urls, headers, 1.0, options.concurrency)
            results[name] = await _hammer(
                session, urls, headers, options.seconds, options.concurrency
            )
            r = results[name]
            ceiling = results["healthz (ceiling)"]["per_s"]
            print(
                f"  {name:<20} {r['per_s']:8,.0f} req/s  p50 {r['p50_ms']:7.1f} ms  "
                f"p99 {r['p99_ms']:7.1f} ms  ({r['requests']:,} requests, errors "
                f"{r['errors'] or 0})  ratio to ceiling {c.ratio(r['per_s'], ceiling)}",
                flush=True,
            )
    return results


def main(options: argparse.Namespace) -> int:
    env = c.server_env(
        database_url=c.db_url(options.database_url, options.database),
        redis_url=options.redis_url,
        prefix="bench-rest",
    )
    # Counted as in production (the throttle's Redis round trip stays in every request)
    # but never refused: two users' reads back to back from 16 clients pass the per-user
    # limit within seconds, and a run soon after another one found the window spent
    # (every request answered 429, cheaply, and counted as served).
    limit = "100000000/minute"
    env.update(RATE_LIMIT_READ=limit, RATE_LIMIT_ORGANIZATION_READ=limit)
    print(
        f"rest: {options.calls:,} calls, {options.contacts:,} contacts; "
        f"{options.processes} {options.server} process(es); "
        f"{options.concurrency} concurrent clients; load average before: {c.load_average()}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-rest-"))
    servers = None
    try:
        if options.reuse:
            c.django_setup(env)
            from crm.models import ContactPhone

            numbers = list(ContactPhone.objects.values_list("number", flat=True)[:1000])
        else:
            numbers = load(options, env)
        servers = _nginx.Servers(options.server, env, workdir, options.processes, options.nginx)
        print(f"  {servers.describe()}", flush=True)
        cpu0, nginx0 = servers.cpu_seconds(), servers.nginx_cpu_seconds()
        results = asyncio.run(measure(options, servers.port, numbers))
        print(
            f"  {options.server} CPU {servers.cpu_seconds() - cpu0:.1f} s"
            + (f", nginx CPU {servers.nginx_cpu_seconds() - nginx0:.1f} s" if servers.nginx else "")
        )
    finally:
        if servers is not None:
            servers.close()
        if not options.keep:
            c.drop_database(options.database_url, options.database)
    print(f"load average after: {c.load_average()}; logs in {workdir}")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls (default 1M)")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts (default 100k)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients (default 16)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="100k calls, 10k contacts, 4 s")
    parser.add_argument("--database-url", default=c.DEFAULT_DATABASE_URL, help="server URL")
    parser.add_argument("--database", default="bench_rest", help="database (recreated)")
    parser.add_argument("--redis-url", default=f"{c.DEFAULT_REDIS}/9", help="Redis (default 9)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use a database kept by --keep")
    parser.add_argument("--json", help="also write the figures to this file")
    c.add_server_option(parser)
    _nginx.add_processes_option(parser)
    options = parser.parse_args(argv)
    c.check_server(parser, options)
    _nginx.check_processes(parser, options)
    if options.quick:
        options.calls, options.contacts, options.seconds = 100_000, 10_000, 4.0
    if options.calls < 0 or options.contacts < 1 or options.seconds <= 0:
        parser.error("need --calls >= 0, --contacts >= 1 and --seconds > 0")
    if options.reuse:
        options.keep = True
    return options


if __name__ == "__main__":
    sys.exit(main(parse_args()))
