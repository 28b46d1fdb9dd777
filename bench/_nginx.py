"""Several server processes behind nginx, as production runs them (``--processes N``).

The nginx configuration is generated from the deploy's own (deploy/nginx.conf): its
``map`` for the Upgrade header, its ``upstream`` (least connections, keepalive; one
``server`` line per process here, on 127.0.0.1 and consecutive ports) and the HTTPS
server's proxy headers and locations (``/ws/`` with the upgrade, ``/`` for /api and the
rest), served on plain HTTP on a free port of 127.0.0.1: no TLS, whose cost is nginx's
and the same whatever the processes behind it. Its events block (worker connections)
and ``worker_processes`` are the deploy's too. nginx runs in the foreground as the
current user, with its configuration, pid, logs and temporary files in a directory of
its own.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from bench import _common as c

NGINX = "/usr/sbin/nginx"
DEPLOY_CONF = c.ROOT / "deploy" / "nginx.conf"


def _block(text: str, head: str) -> str:
    """The block that starts with the regular expression ``head``, braces included."""
    match = re.search(head + r"\s*\{", text)
    if match is None:
        raise ValueError(f"no {head!r} block in {DEPLOY_CONF}")
    depth, index = 0, match.end() - 1
    for index in range(match.end() - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            break
    return text[match.start() : index + 1]


def _blocks(text: str, head: str) -> list[str]:
    found, rest = [], text
    while re.search(head + r"\s*\{", rest):
        block = _block(rest, head)
        found.append(block)
        rest = rest[rest.index(block) + len(block) :]
    return found


def nginx_config(deploy: str, ports: list[int], listen: int, directory: Path) -> str:
    """deploy/nginx.conf's rules for ``ports`` behind 127.0.0.1:``listen``."""
    text = re.sub(r"#[^\n]*", "", deploy)
    events = _block(text, r"\bevents")
    workers = re.search(r"^\s*worker_processes\s+[^;]+;", text, re.MULTILINE)
    http = _block(text, r"\bhttp")
    upgrade = _block(http, r"\bmap\s+\$http_upgrade\s+\$connection_upgrade")
    upstream = _block(http, r"\bupstream\s+contactcenter")
    first = re.search(r"^\s*server\s+\S+([^;]*);", upstream, re.MULTILINE)
    if first is None:
        raise ValueError(f"no server line in {DEPLOY_CONF}'s upstream")
    lines = "".join(f"        server 127.0.0.1:{port}{first.group(1)};\n" for port in ports)
    upstream = re.sub(r"^\s*server\s+[^;]+;\n", "", upstream, flags=re.MULTILINE)
    upstream = upstream.replace("{", "{\n" + lines, 1)
    https = next(s for s in _blocks(http, r"\bserver") if re.search(r"listen\s+443", s))
    https = re.sub(r"^\s*(listen|ssl_\w+|server_name)\b[^;]*;\n", "", https, flags=re.MULTILINE)
    https = https.replace("{", f"{{\n        listen 127.0.0.1:{listen};\n        server_name _;", 1)
    log_format = re.search(r"^\s*log_format[^;]+;", http, re.MULTILINE)
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = (
        f"{user}daemon off;\n{workers.group(0).strip() if workers else ''}\n"
        f"pid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'} warn;\n"
        f"{events}\n"
        "http {\n"
        f"    default_type application/octet-stream;\n{temp}"
        f"{log_format.group(0) if log_format else ''}\n"
        f"    access_log {directory / 'access.log'} main buffer=64k flush=1s;\n"
        f"    {upgrade}\n    {upstream}\n    {https}\n"
        "}\n"
    )
    return re.sub(r"\n[ \t]*(?=\n)", "", config)  # the comments' empty lines


def consecutive_ports(count: int, attempts: int = 200) -> list[int]:
    """``count`` consecutive ports that are free on 127.0.0.1 now."""
    for _ in range(attempts):
        base = c.free_port()
        ports = list(range(base, base + count))
        if ports[-1] < 65_536 and all(_free(port) for port in ports[1:]):
            return ports
    raise RuntimeError(f"no {count} consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_nginx(ports: list[int], directory: Path) -> tuple[subprocess.Popen[Any], int]:
    """nginx in front of ``ports``; the process and the port it listens on."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"{NGINX} is not installed (apt-get install nginx)")
    directory.mkdir(parents=True, exist_ok=True)
    listen = c.free_port()
    conf = directory / "nginx.conf"
    conf.write_text(nginx_config(DEPLOY_CONF.read_text(), ports, listen, directory))
    args = ["-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
    check = subprocess.run(  # noqa: S603 - the system's nginx, our file
        [NGINX, "-t", "-q", *args], capture_output=True, text=True
    )
    if check.returncode:
        raise RuntimeError(f"nginx refuses {conf}: {check.stderr.strip()}")
    process = subprocess.Popen(  # noqa: S603
        [NGINX, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: c.raise_nofile(),
    )
    c.wait_http(f"http://127.0.0.1:{listen}/healthz", process=process)
    return process, listen


def add_processes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes (default 1); several are put behind nginx, with the "
        "deploy's rules (deploy/nginx.conf), on a free port",
    )
    parser.add_argument(
        "--nginx", action="store_true", help="nginx in front of a single process too"
    )


def check_processes(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    if options.processes < 1:
        parser.error("--processes must be at least 1")
    if options.processes > 1 and not Path(NGINX).exists():
        parser.error(f"--processes {options.processes} needs nginx ({NGINX})")


class Servers:
    """``processes`` servers ``name`` on consecutive ports, behind nginx when there are
    several (or ``nginx``); ``port`` is where clients go (nginx's, or the one server's)."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        directory: Path,
        processes: int = 1,
        nginx: bool = False,
    ) -> None:
        self.name, self.env, self.directory = name, env, directory
        self.ports = consecutive_ports(processes)
        self.servers: list[c.Server] = []
        self.nginx: subprocess.Popen[Any] | None = None
        self.port = self.ports[0]
        self.logs: list[IO[str]] = []
        self.starts = 0
        self.start_servers()
        if processes > 1 or nginx:
            self.nginx, self.port = start_nginx(self.ports, directory / "nginx")

    def start_servers(self) -> None:
        for index, port in enumerate(self.ports):
            log = open(self.directory / f"{self.name}-{index}-{self.starts}.log", "w")  # noqa: SIM115
            self.logs.append(log)
            self.servers.append(c.start_server(self.name, self.env, port, log))
        self.starts += 1

    def stop_servers(self) -> None:
        for server in self.servers:
            c.stop(server)
        self.servers = []
        for log in self.logs:
            log.close()
        self.logs = []

    def restart(self) -> list[int]:
        """Every server stopped (each socket dropped) and started again; nginx stays."""
        self.stop_servers()
        time.sleep(0.1)
        self.start_servers()
        return self.pids

    @property
    def pids(self) -> list[int]:
        return [server.pid for server in self.servers]

    def cpu_seconds(self) -> float:
        return sum(c.cpu_seconds(pid) for pid in self.pids)

    def rss_bytes(self) -> int:
        return sum(c.rss_bytes(pid) for pid in self.pids)

    def nginx_cpu_seconds(self) -> float:
        if self.nginx is None:
            return 0.0
        return sum(c.cpu_seconds(pid) for pid in [self.nginx.pid, *c.children(self.nginx.pid)])

    def describe(self) -> str:
        count = len(self.ports)
        where = f"behind nginx on port {self.port}" if self.nginx else f"on port {self.port}"
        return f"{count} {self.name} process{'es' if count > 1 else ''} {where}"

    def close(self) -> None:
        self.stop_servers()
        c.stop(self.nginx)
