"""Ingest benchmark: the AMI simulator at full speed into the bridge, on PostgreSQL + Redis.

    .venv/bin/python bench/ingest.py --seconds 20 --runs 3

Each run: a fresh PostgreSQL database (cloned from a migrated, seeded template), a
flushed Redis database, the simulator in its own process (bench/ingest_simulator.py,
realistic call mix with the dialplan noise on, as fast as the bridge reads) and
``manage.py run_bridge`` in its own process (production settings, DEBUG off). The run
ends when every call the simulator placed is stored and closed; then the stored
timeline is checked against what the simulator sent (nothing lost), and the rate is
set beside panoramisk's parse-only rate of the very same byte stream, measured in the
same run. Figures are printed; ``--json`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as c  # noqa: E402
from bench.parse_ceiling import best_of, ours_once, panoramisk_once  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECRET = "bench-secret"
TICK = os.sysconf("SC_CLK_TCK")

# AMI event sent -> the timeline entry it must leave, one for one; resumes and transfers
# are counted as tests/telephony/ami/test_bridge_load.py counts them.
ONE_FOR_ONE = {
    "QueueCallerJoin": "queue.joined",
    "QueueCallerLeave": "queue.left",
    "QueueCallerAbandon": "queue.abandoned",
    "AgentComplete": "agent.completed",
    "Hold": "call.held",
}


@dataclass
class RunResult:
    calls: int
    events_sent: int
    offered_per_second: float
    seconds_to_stored: float
    events_per_second: float
    timeline_entries: int
    bridge_cpu_seconds: float
    simulator_cpu_seconds: float
    stream_bytes: int
    panoramisk_parse_per_second: float
    frameparser_parse_per_second: float
    ratio_to_panoramisk: float
    problems: list[str] = field(default_factory=list)


# -- database and redis ---------------------------------------------------------------------


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def _db_url(base: str, name: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


def _recreate(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def prepare_template(options: argparse.Namespace, env: dict[str, str]) -> None:
    """A migrated, seeded database each run is cloned from (CREATE DATABASE ... TEMPLATE)."""
    template = f"{options.database}_template"
    _recreate(_admin_url(options.database_url), template)
    env = {**env, "DATABASE_URL": _db_url(options.database_url, template)}
    _manage(env, "migrate", "--verbosity", "0")
    _manage(env, "seed_demo")


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


# -- processes ------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _read_json(stream: IO[str], key: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"the simulator exited before reporting {key!r}")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if key in message:
            return dict(message)
    raise TimeoutError(f"no {key!r} from the simulator in {timeout:.0f}s")


def _stop(process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- waiting and checking ---------------------------------------------------------------------


def _wait_stored(url: str, calls: int, stall: float) -> float:
    """Until every call placed is stored and closed; returns the wall time it happened.

    Gives up when nothing moved for ``stall`` seconds (a call that never closes). Only the
    bridge's calls count (connection_key 'asterisk:env', AMI_URL's): the template's seeded
    past (manage.py seed_demo's history, on earlier days) is in the same table."""
    query = (
        "SELECT count(*), count(*) FILTER (WHERE ended_at IS NULL), "
        "(SELECT count(*) FROM contactcenter_callevent) FROM contactcenter_call "
        "WHERE connection_key = 'asterisk:env'"
    )
    last: tuple[Any, ...] = ()
    moved = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() - moved < stall:
            row = conn.execute(query).fetchone()
            assert row is not None
            if row[0] >= calls and row[1] == 0:
                return time.time()
            if row != last:
                last, moved = row, time.monotonic()
            time.sleep(0.05)
    raise TimeoutError(
        f"stuck for {stall:.0f}s: {last[0]} calls stored ({last[1]} open) of {calls} placed"
    )


def _check(url: str, sent: dict[str, int], calls: int) -> tuple[int, list[str]]:
    """The stored records against what the simulator sent; returns (entries, problems)."""
    with psycopg.connect(url, autocommit=True) as conn:
        types = Counter(
            {
                t: n
                for t, n in conn.execute(
                    "SELECT type, count(*) FROM contactcenter_callevent GROUP BY type"
                ).fetchall()
            }
        )
        transfer_rows = Counter(
            {
                status: n
                for status, n in conn.execute(
                    "SELECT status, count(*) FROM contactcenter_calltransfer GROUP BY status"
                ).fetchall()
            }
        )
        # The bridge's calls, not the seeded past (see _wait_stored).
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN "
            "('queued','ringing','in_progress','on_hold')) FROM contactcenter_call "
            "WHERE connection_key = 'asterisk:env'"
        ).fetchone()
    assert row is not None
    total, still_open = row
    problems = []
    if total != calls:
        problems.append(f"{total} calls stored, {calls} placed")
    if still_open:
        problems.append(f"{still_open} calls still open")
    for name in ("call.created", "call.ended"):
        if types[name] != calls:
            problems.append(f"{types[name]} {name} entries for {calls} calls")
    for ami, entry in ONE_FOR_ONE.items():
        if types[entry] != sent.get(ami, 0):
            problems.append(f"{types[entry]} {entry} entries for {sent.get(ami, 0)} {ami}")
    # An attended transfer's consultation leg, never held, sends an Unhold too: no resume.
    resumes = sent.get("Unhold", 0) - sent.get("AttendedTransfer", 0)
    if types["call.resumed"] != resumes:
        problems.append(f"{types['call.resumed']} call.resumed entries for {resumes} resumes")
    # One transfer per transfer event, each completed or failed once its call ended.
    expected = sent.get("BlindTransfer", 0) + sent.get("AttendedTransfer", 0)
    if transfer_rows.total() != expected:
        problems.append(f"{transfer_rows.total()} transfers for {expected} transfer events")
    if set(transfer_rows) - {"completed", "failed"}:
        problems.append(f"transfers left unsettled: {dict(transfer_rows)}")
    if types["call.answered"] < sent.get("AgentConnect", 0):
        problems.append("fewer call.answered entries than AgentConnect events")
    return sum(types.values()), problems


# -- one run --------------------------------------------------------------------------------


def run_once(options: argparse.Namespace, env: dict[str, str], workdir: Path) -> RunResult:
    name = options.database
    _recreate(_admin_url(options.database_url), name, template=f"{name}_template")
    _flush_redis(options.redis_url)
    url = _db_url(options.database_url, name)
    record = workdir / "stream.ami"
    simulator = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            *(PYTHON, "-m", "bench.ingest_simulator", "--seconds", str(options.seconds)),
            *("--secret", SECRET, "--seed", str(options.seed), "--agents", str(options.agents)),
            *("--record", str(record)),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    bridge: subprocess.Popen[Any] | None = None
    profiler: subprocess.Popen[Any] | None = None
    assert simulator.stdout is not None and simulator.stdin is not None
    try:
        port = _read_json(simulator.stdout, "port", 30)["port"]
        bridge_env = {
            **env,
            "DATABASE_URL": url,
            "AMI_URL": f"ami://bridge:{SECRET}@127.0.0.1:{port}",
        }
        with open(workdir / "bridge.log", "w") as log:
            bridge = subprocess.Popen(  # noqa: S603
                [PYTHON, "manage.py", "run_bridge"],
                cwd=ROOT,
                env=bridge_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started = _read_json(simulator.stdout, "started", 60)["started"]
        if options.profile:
            profiler = c.profile(bridge.pid, workdir / "bridge.pyspy.txt")
        report = _read_json(simulator.stdout, "finished", options.seconds * 20 + 60)
        stored_at = _wait_stored(url, report["calls"], options.stall)
        bridge_cpu = _cpu_seconds(bridge.pid)
        entries, problems = _check(url, report["events_by_type"], report["calls"])
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            profiler.wait(60)
        if bridge is not None:
            _stop(bridge)
        simulator.stdin.close()  # the simulator saves the recorded stream and exits
        simulator.wait(120)
    log_text = (workdir / "bridge.log").read_text()
    if "Traceback" in log_text or " ERROR " in log_text:
        problems.append(f"errors in the bridge log ({workdir / 'bridge.log'})")
    if "logged in" in log_text and log_text.count("logged in") != 1:
        problems.append("the bridge reconnected during the run")

    data = record.read_bytes()
    panoramisk = best_of(3, panoramisk_once, data)
    ours = best_of(3, ours_once, data)
    record.unlink()
    seconds = stored_at - started
    rate = report["events"] / seconds
    return RunResult(
        calls=report["calls"],
        events_sent=report["events"],
        offered_per_second=report["events"] / report["elapsed"],
        seconds_to_stored=seconds,
        events_per_second=rate,
        timeline_entries=entries,
        bridge_cpu_seconds=bridge_cpu,
        simulator_cpu_seconds=report["cpu"],
        stream_bytes=len(data),
        panoramisk_parse_per_second=panoramisk.per_second,
        frameparser_parse_per_second=ours.per_second,
        ratio_to_panoramisk=rate / panoramisk.per_second if panoramisk.per_second else 0.0,
        problems=problems,
    )


def _print_run(index: int, r: RunResult) -> None:
    print(
        f"run {index}: {r.events_sent:,} AMI events ({r.calls:,} calls) all stored and closed "
        f"{r.seconds_to_stored:.1f}s after the load started: {r.events_per_second:,.0f} events/s "
        f"end to end (simulator offered {r.offered_per_second:,.0f}/s)\n"
        f"  bridge CPU {r.bridge_cpu_seconds:.1f}s "
        f"({r.bridge_cpu_seconds / r.events_sent * 1e6:.1f} us/event), simulator CPU "
        f"{r.simulator_cpu_seconds:.1f}s; {r.timeline_entries:,} timeline entries\n"
        f"  parse-only, same {r.stream_bytes / 1e6:.0f} MB stream: panoramisk "
        f"{r.panoramisk_parse_per_second:,.0f}/s, FrameParser "
        f"{r.frameparser_parse_per_second:,.0f}/s; ratio end-to-end / panoramisk parse-only "
        f"= {r.ratio_to_panoramisk:.2f}\n"
        f"  {'NOTHING LOST' if not r.problems else 'PROBLEMS: ' + '; '.join(r.problems)}",
        flush=True,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to use (the database name part is replaced)",
    )
    parser.add_argument("--database", default="bench_ingest", help="database name (recreated)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument(
        "--stall", type=float, default=30.0, help="give up when the store stops moving this long"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="attach py-spy (a dev tool: pip install py-spy) to the bridge; stacks in the logs",
    )
    options = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV": "production",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
        # Production settings want the secrets' key given (config/encryption.py).
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(b"bench-only".ljust(32, b"x")).decode(),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "REDIS_URL": options.redis_url,
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_TEST_NAME", None)
    env["DATABASE_URL"] = _db_url(options.database_url, options.database)
    print(
        f"machine: {_cpu_model()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    prepare_template(options, env)
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    print(f"bridge logs in {workdir}", flush=True)
    for index in range(1, options.runs + 1):
        rundir = workdir / f"run{index}"
        rundir.mkdir()
        result = run_once(options, env, rundir)
        _print_run(index, result)
        results.append(result)
    rates = [r.events_per_second for r in results]
    ratios = [r.ratio_to_panoramisk for r in results]
    print(
        f"\nbest {max(rates):,.0f} events/s, median {statistics.median(rates):,.0f} events/s "
        f"over {len(rates)} runs; ratio to panoramisk parse-only: best {max(ratios):.2f}, "
        f"median {statistics.median(ratios):.2f}; load average after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
