"""What bench/latency.py, bench/fanout.py, bench/storm.py and bench/rest.py share.

A dedicated PostgreSQL database and Redis database per benchmark, the environment the
server processes get, the ASGI server (Daphne as deployed, or another: ``--server``)
started and stopped, WebSocket tickets minted in-process (same secret key as the
server), process figures from /proc, percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-not-for-production"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

DEFAULT_DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DEFAULT_REDIS = "redis://127.0.0.1:6379"


# -- environment ---------------------------------------------------------------------------


def db_url(base: str, name: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


def server_env(*, database_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    """Production-like settings (DEBUG off, Redis layers) without the HTTPS redirect."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "REALTIME_", "AMI_"))
    }
    env.update(
        DJANGO_ENV="development",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CHANNEL_LAYER_PREFIX=prefix,
        REALTIME_KEY_PREFIX=f"{prefix}:rt",
        REALTIME_TICKET_SECONDS="300",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def recreate_database(database_url: str, name: str) -> None:
    admin = db_url(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str, name: str) -> None:
    admin = db_url(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def django_setup(env: dict[str, str]) -> None:
    """Set this process up as the server is (same settings, database, Redis, secret)."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@contextlib.contextmanager
def clients_frozen() -> Iterator[None]:
    """This process's clients (thousands of sockets) frozen out of its garbage collector
    while it measures: a full collection of them stops its event loop for a long while
    (docs/benchmarks.md, "Figures the code's comments rest on"), and one that fell inside
    a measurement was counted as the server's."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def raise_nofile(wanted: int = 65_536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- processes -----------------------------------------------------------------------------


def profile(pid: int, output: Path) -> subprocess.Popen[Any]:
    """py-spy (a dev tool: pip install py-spy) on ``pid``, raw stacks into ``output``
    once it gets SIGINT."""
    return subprocess.Popen(  # noqa: S603 - the venv's py-spy
        [
            *(str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--pid", str(pid)),
            *("--format", "raw", "--rate", "200", "--threads", "--subprocesses", "--nonblocking"),
            *("--output", str(output)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def histograms(metrics_url: str, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Prometheus histograms read off a process's /metrics: each one's count, mean and
    p50/p99 in milliseconds, the quantiles interpolated within buckets (as Prometheus's
    ``histogram_quantile`` does), so only as fine as the buckets."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(metrics_url, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in names:
            continue
        buckets = [
            (float(sample.labels["le"]), sample.value)
            for sample in family.samples
            if sample.name.endswith("_bucket")
        ]
        total = next(s.value for s in family.samples if s.name.endswith("_sum"))
        count = next(s.value for s in family.samples if s.name.endswith("_count"))
        out[family.name] = {
            "n": count,
            "mean_ms": total / count * 1000 if count else float("nan"),
            "p50_ms": _bucket_quantile(sorted(buckets), 0.5) * 1000,
            "p99_ms": _bucket_quantile(sorted(buckets), 0.99) * 1000,
        }
    return out


def _bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float:
    count = buckets[-1][1] if buckets else 0.0
    if not count:
        return float("nan")
    rank, lower, below = q * count, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower  # beyond the last finite bucket: its bound is all we know
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return lower


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_http(
    url: str, timeout: float = 60.0, process: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")


# The ASGI servers a bench can run ``config.asgi:application`` on (``--server``): each
# command as the deploy would run it, on 127.0.0.1:<port>. Daphne's is the deploy's.
SERVERS = ("daphne", "uvicorn", "uvicorn-wsproto", "hypercorn", "granian")
SERVER_HELP = (
    "the ASGI server (default daphne, as deployed). daphne waits 60 s for a handshake's "
    "accept (the deploy's --websocket_connect_timeout); uvicorn, hypercorn and granian have "
    "no such limit (they wait for the accept as long as the client does), so none is set. "
    "uvicorn: websockets' sans-I/O implementation (uvicorn's default; uvicorn) or wsproto "
    "(uvicorn-wsproto), uvloop and httptools, "
    "pings every 20 s with 30 s to answer as Daphne, no compression offered (Daphne offers "
    "none), no proxy headers (the app reads X-Forwarded-For itself), no lifespan; "
    "hypercorn: uvloop worker, in this process (-w 0); granian: one worker process, ASGI "
    "without lifespan, backpressure raised so it holds as many sockets as the others. "
    "Not a dependency: .venv/bin/pip install 'uvicorn[standard]' wsproto hypercorn granian"
)
_SERVER_MODULES = {
    "daphne": ("daphne",),
    "uvicorn": ("uvicorn", "websockets", "uvloop", "httptools"),
    "uvicorn-wsproto": ("uvicorn", "wsproto", "uvloop", "httptools"),
    "hypercorn": ("hypercorn", "uvloop"),
    "granian": ("granian",),
}
APP = "config.asgi:application"


def server_missing(name: str) -> str | None:
    """Why ``name`` cannot run here (a module not installed in the venv), or None."""
    import importlib.util

    missing = [m for m in _SERVER_MODULES[name] if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"--server {name} needs {', '.join(missing)}, not installed in {ROOT / '.venv'} "
        f"(.venv/bin/pip install 'uvicorn[standard]' wsproto hypercorn granian)"
    )


def server_command(name: str, port: int) -> list[str]:
    """The command line of server ``name`` serving the app on 127.0.0.1:``port``."""
    if name == "daphne":
        # A handshake may wait its turn for 60 s (Daphne's default 5 s drops handshakes
        # queued behind a burst, and the client's retry of the same one-time ticket is
        # then refused; see bench/storm.py).
        return [
            *(PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)),
            *("--websocket_connect_timeout", "60", APP),
        ]
    if name in ("uvicorn", "uvicorn-wsproto"):
        return [
            *(PYTHON, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)),
            # uvicorn's own choice of websockets implementation (its sans-I/O one).
            *("--ws", "wsproto" if name == "uvicorn-wsproto" else "websockets-sansio"),
            *("--loop", "uvloop", "--http", "httptools", "--lifespan", "off"),
            *("--ws-ping-interval", "20", "--ws-ping-timeout", "30"),
            *("--ws-per-message-deflate", "false", "--no-proxy-headers"),
            *("--no-access-log", "--log-level", "warning", APP),
        ]
    if name == "hypercorn":
        return [
            *(PYTHON, "-m", "hypercorn", "-b", f"127.0.0.1:{port}", "-w", "0"),
            *("-k", "uvloop", "--websocket-ping-interval", "20", APP),
        ]
    if name == "granian":
        return [
            *(PYTHON, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1"),
            *("--port", str(port), "--workers", "1", "--backpressure", "65536"),
            *("--no-access-log", "--log-level", "warning", APP),
        ]
    raise ValueError(f"unknown server {name!r}; one of {', '.join(SERVERS)}")


@dataclass
class Server:
    """A server process; ``pid`` is the one that serves (granian's worker is a child
    of the process started), whose CPU and memory the benches read."""

    name: str
    port: int
    process: subprocess.Popen[Any]
    pid: int


def add_server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", choices=SERVERS, default="daphne", help=SERVER_HELP)


def check_server(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """A clear error before anything starts if ``--server`` is not installed."""
    missing = server_missing(options.server)
    if missing:
        parser.error(missing)


def start_server(name: str, env: dict[str, str], port: int, log: IO[str]) -> Server:
    """Server ``name`` on ``port``, once it answers /healthz."""
    missing = server_missing(name)
    if missing:
        raise RuntimeError(missing)
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our app
        server_command(name, port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: raise_nofile(),
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", process=process)
    pid = process.pid
    if name == "granian":
        workers = children(process.pid)
        if len(workers) != 1:
            stop(process)
            raise RuntimeError(f"granian started {len(workers)} workers, not one")
        pid = workers[0]
    return Server(name, port, process, pid)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen[Any] | Server | None, timeout: float = 20.0) -> None:
    if isinstance(process, Server):
        process = process.process
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_json_line(stream: IO[str], key: str, timeout: float) -> dict[str, Any]:
    """The first JSON line on ``stream`` that has ``key`` (a child reporting on stdout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"the child exited before reporting {key!r}")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and key in message:
            return message
    raise TimeoutError(f"no {key!r} in {timeout:.0f}s")


# -- WebSocket clients ---------------------------------------------------------------------


async def gather_limited(coroutines: Sequence[Any], limit: int) -> list[Any]:
    """Run coroutines with at most ``limit`` at a time (connection storms hurt the server)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


# -- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": max(values) * 1000 if values else float("nan"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "n/a"
