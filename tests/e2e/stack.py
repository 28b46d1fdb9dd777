"""The real processes an end-to-end test runs: Daphne, the AMI simulator, the bridge.

Each runs as operators run it (``daphne config.asgi:application``, ``manage.py
ami_simulator``, ``manage.py run_bridge``) against the test database, sharing Redis
under prefixes of their own. Their output goes to log files in the test's tmp dir;
readiness is awaited on what the processes say or serve, never on a timer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from telephony.ami.frames import AmiMessage, FrameParser, serialize

ROOT = Path(__file__).resolve().parents[2]
AMI_SECRET = "e2e-secret"

T = TypeVar("T")


def db_run(read: Callable[[], T]) -> T:
    """Run ORM work from the test body in a thread of its own.

    Playwright's sync API keeps an event loop in the test's thread, which Django takes
    for an async context (and gives another connection); a plain thread has none. Its
    connection is closed before returning, so nothing is left open on the test database.
    """

    from django.db import connections

    def run() -> T:
        try:
            return read()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


# The processes a test starts connect under this name, so the test can wait for their
# database sessions alone (the test's own process may hold others, e.g. worker threads).
APPLICATION_NAME = "cc-e2e-stack"


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the test's database for the processes, tagged with APPLICATION_NAME."""
    s = settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return (
        f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        f"?application_name={APPLICATION_NAME}"
    )


def stack_sessions() -> int:
    """Database sessions the processes still hold (they end a moment after the processes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        return int(cursor.fetchone()[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# An upper bound, not a delay: starting Django in three processes on a shared 2-core
# machine under a full suite has taken well over the 30 s once thought plenty.
WAIT_TIMEOUT = 90.0


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT) -> None:
    """Poll ``check`` (a port, a URL, a log line) until it holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def check_alive(self) -> None:
        assert self.popen is not None
        if self.popen.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.popen.returncode}:\n{self.output()[-4000:]}"
            )

    def wait_for_output(self, text: str, timeout: float = WAIT_TIMEOUT) -> None:
        def seen() -> bool:
            self.check_alive()
            return text in self.output()

        wait_until(seen, f"{self.name} to say {text!r}", timeout)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(timeout=timeout)


@dataclass
class Stack:
    """Daphne + simulator + bridge on free ports, for one test."""

    database_url: str
    redis_url: str
    logs: Path
    organization_slug: str
    web_port: int = field(default_factory=free_port)
    ami_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)
    env_used: dict[str, str] = field(default_factory=dict)
    # More phones on the simulated PBX, in no queue (ami_simulator --phone).
    extra_phones: tuple[str, ...] = ()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        prefix = f"e2e-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            # Prefixes of this run: tests sharing the Redis server never hear each other.
            "CHANNEL_LAYER_PREFIX": prefix,
            "REALTIME_KEY_PREFIX": prefix,
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "AMI_URL": f"ami://bridge:{AMI_SECRET}@127.0.0.1:{self.ami_port}",
            "AMI_ORGANIZATION": self.organization_slug,
            # No worker here: tasks (the case a disposition opens) run in the process.
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DATABASE_TEST_NAME", None)
        return env

    def start(self) -> None:
        env = self.env_used = self.env()
        simulator = self._process(
            "simulator",
            [
                "manage.py",
                "ami_simulator",
                "--port",
                str(self.ami_port),
                "--secret",
                AMI_SECRET,
                "--speed",
                "1",
                "--control",
                *(f"--phone={number}" for number in self.extra_phones),
            ],
            env,
        )
        simulator.wait_for_output("AMI simulator on")
        self.start_web()
        bridge = self._process("bridge", ["manage.py", "run_bridge"], env)
        bridge.wait_for_output("logged in")

    def start_web(self) -> None:
        bind = ["-b", "127.0.0.1", "-p", str(self.web_port)]
        web = self._process(
            "daphne", ["-m", "daphne", *bind, "config.asgi:application"], self.env_used
        )

        def healthy() -> bool:
            web.check_alive()
            url = f"{self.base_url}/healthz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                return bool(answer.status == 200)
            return False

        wait_until(healthy, "daphne to answer /healthz")

    def _process(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        process = Process(name, [sys.executable, *args], env, self.logs / f"{name}.log").start()
        self.processes[name] = process
        return process

    def stop(self) -> None:
        # The bridge first: what it received is written before the others go.
        for name in ("bridge", "daphne", "simulator"):
            if name in self.processes:
                self.processes[name].stop()

    def place_inbound_call(self, **fields: str) -> AmiMessage:
        """``Action: SimulatorInboundCall`` (telephony/ami/simulator/control.py)."""
        with AmiControl(self.ami_port) as ami:
            return ami.request("SimulatorInboundCall", **fields)


class AmiControl:
    """A blocking AMI client for the test's own actions: log in, ask, log off."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.parser = FrameParser()
        self.pending: list[AmiMessage] = []
        self.ids = 0

    def __enter__(self) -> AmiControl:
        login = self.request("Login", Username="bridge", Secret=AMI_SECRET, Events="off")
        assert login.response == "Success", login.fields
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(serialize([("Action", "Logoff")]))
        self.sock.close()

    def request(self, action: str, **fields: str) -> AmiMessage:
        self.ids += 1
        action_id = f"e2e-{self.ids}"
        self.sock.sendall(serialize([("Action", action), ("ActionID", action_id), *fields.items()]))
        for message in self._messages():
            if message.response is not None and message.action_id == action_id:
                return message
        raise AssertionError(f"no response to {action}")

    def _messages(self) -> Iterator[AmiMessage]:
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            # The banner and any AMI frame error are not answers: skip them.
            yield from (f for f in self.parser.feed(data) if isinstance(f, AmiMessage))


@contextlib.contextmanager
def demo_stack(
    logs: Path, redis_url: str, *, web_only: bool = False, extra_phones: tuple[str, ...] = ()
) -> Iterator[Stack]:
    """The demo organization seeded in the test database and its processes started (all
    of them, or only the server); stopped afterwards, waiting for their database
    sessions to end so the flush (and dropping the test database) finds nobody else."""
    from django.core.management import call_command
    from django.db import connection

    from provisioning.demo import DEMO_ORG_SLUG

    call_command("seed_demo")
    stack = Stack(
        database_url=database_url(connection.settings_dict),
        redis_url=redis_url,
        logs=logs,
        organization_slug=DEMO_ORG_SLUG,
        extra_phones=extra_phones,
    )
    stack.env_used = stack.env()
    try:
        if web_only:
            stack.start_web()
        else:
            stack.start()
        yield stack
    finally:
        stack.stop()
        wait_until(lambda: stack_sessions() == 0, "the processes' database sessions to end")
