"""deploy/: the compose file, nginx, the systemd units and the Dockerfile.

Each file is checked by its own tool when the machine has it (``docker compose`` or
``docker-compose config``, ``nginx -t``, ``systemd-analyze verify``; .ci/run installs
the cheap ones) and always against the code: the processes they start, the ports and
routes they name, the WebSocket upgrade on the routes the consumers serve.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from realtime.routing import websocket_urlpatterns

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WEB = ("web1", "web2", "web3")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _command(service: dict[str, Any]) -> str:
    return " ".join(service.get("command") or [])


def test_compose_runs_every_process_of_the_design(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {
        "postgres",
        "redis",
        "migrate",
        *WEB,
        "bridge",
        "worker",
        "beat",
        "nginx",
    }
    for name in WEB:
        assert _command(services[name]).startswith("daphne ")
        # Daphne's --proxy-headers takes X-Forwarded-For's leftmost entry, which the
        # client writes: the server reads nginx's entry itself (config/proxy.py).
        assert "--proxy-headers" not in _command(services[name])
        assert services[name]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
        assert "config.asgi:application" in _command(services[name])
        # A reconnect storm's sockets wait their turn longer than Daphne's default 5 s.
        assert "--websocket_connect_timeout 60" in _command(services[name])
    assert _command(services["bridge"]) == "python manage.py run_bridge"
    assert _command(services["worker"]).startswith("celery -A config worker")
    assert _command(services["beat"]).startswith("celery -A config beat")
    assert _command(services["migrate"]) == "python manage.py migrate --noinput"
    # Every process that reads or writes a stored credential has the key (the migration
    # that encrypted the rows stored before too), and compose refuses to start without it.
    for name in ("migrate", *WEB, "bridge", "worker", "beat"):
        keys = services[name]["environment"]["FIELD_ENCRYPTION_KEYS"]
        assert keys == "${FIELD_ENCRYPTION_KEYS:?set FIELD_ENCRYPTION_KEYS}"
    for name in (*WEB, "bridge", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        # Prometheus scrapes each web process by its service name: Django must accept it.
        assert all(web in env["DJANGO_ALLOWED_HOSTS"] for web in WEB)
    assert services["bridge"]["environment"]["METRICS_PORT"] == "9100"


def test_metrics_answer_prometheus_with_its_token_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in (*WEB, "bridge"):  # the bridge's METRICS_PORT applies the same rule
        env = services[name]["environment"]
        assert env["METRICS_TOKEN"] == "${METRICS_TOKEN:?set METRICS_TOKEN}"  # no default
        assert "127.0.0.0/8" not in env["METRICS_ALLOWED_NETWORKS"].split(",")
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        assert job["authorization"]["type"] == "Bearer", job["job_name"]
        assert job["authorization"]["credentials_file"], job["job_name"]
    env_example = (DEPLOY / "systemd" / "contactcenter.env.example").read_text()
    assert "\nMETRICS_TOKEN=" in env_example


def test_prometheus_scrapes_every_process(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert targets == {f"{web}:8000" for web in WEB} | {"bridge:9100"}


def _compose_cli() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_config_is_valid_for_docker_compose() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither docker compose nor docker-compose is installed")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "s" * 50,
        "FIELD_ENCRYPTION_KEYS": "k" * 43 + "=",
        "POSTGRES_PASSWORD": "pw",
        "METRICS_TOKEN": "m" * 32,
    }
    done = subprocess.run(
        [*cli, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Secrets have no default: without them compose refuses to start.
    env.pop("DJANGO_SECRET_KEY")
    refused = subprocess.run(
        [*cli, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode != 0 and "DJANGO_SECRET_KEY" in refused.stderr


def test_nginx_proxies_every_web_process_and_upgrades_websockets() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream contactcenter \{(.*?)\}", conf, re.S)
    assert upstream
    assert re.findall(r"server (\w+):8000", upstream.group(1)) == list(WEB)
    ws = re.search(r"location /ws/ \{(.*?)\n        \}", conf, re.S)
    assert ws
    assert "proxy_set_header Upgrade $http_upgrade;" in ws.group(1)
    assert "proxy_set_header Connection $connection_upgrade;" in ws.group(1)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in ws.group(1)
    # The client's address is set, never appended to what the client sent (which
    # $proxy_add_x_forwarded_for keeps): with TRUSTED_PROXY_COUNT=1 the server reads it.
    assert "$proxy_add_x_forwarded_for" not in conf
    assert conf.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    assert "proxy_http_version 1.1;" in conf
    # Every WebSocket route of the server sits under the upgraded location.
    assert all(str(p.pattern).startswith("ws/") for p in websocket_urlpatterns)
    assert "location = /metrics { return 404; }" in conf


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip(
            "nginx check (deploy/nginx.conf) needs nginx and openssl"
            " (apt-get install nginx-light openssl); .ci/run installs nginx"
        )
    # The compose service names resolve only inside compose; certificates come at deploy.
    conf = (DEPLOY / "nginx.conf").read_text()
    conf = re.sub(r"server web\d:8000", "server 127.0.0.1:8000", conf)
    conf = conf.replace("/etc/nginx/certs", str(tmp_path)).replace(
        "/run/nginx.pid", str(tmp_path / "nginx.pid")
    )
    (tmp_path / "nginx.conf").write_text(conf)
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_systemd_units_verify(tmp_path: Path) -> None:
    units = sorted((DEPLOY / "systemd").glob("contactcenter*.service")) + sorted(
        (DEPLOY / "systemd").glob("*.target")
    )
    text = {unit.name: unit.read_text() for unit in units}
    assert "--proxy-headers" not in text["contactcenter-web@.service"]
    assert "--bind 127.0.0.1" in text["contactcenter-web@.service"]  # only nginx reaches it
    assert "--websocket_connect_timeout 60" in text["contactcenter-web@.service"]
    env_example = (DEPLOY / "systemd" / "contactcenter.env.example").read_text()
    assert re.search(r"^TRUSTED_PROXY_COUNT=1$", env_example, re.M)
    assert "manage.py run_bridge" in text["contactcenter-bridge.service"]
    assert "METRICS_PORT=9100" in text["contactcenter-bridge.service"]
    assert "celery -A config worker" in text["contactcenter-worker.service"]
    assert "celery -A config beat" in text["contactcenter-beat.service"]
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # As installed: the code (and its .venv) at /opt/contactcenter, here at this checkout.
    venv_bin = ROOT / ".venv" / "bin"
    if not (venv_bin / "daphne").exists():
        pytest.skip("the checkout has no .venv to stand in for /opt/contactcenter/.venv")
    env_file = DEPLOY / "systemd" / "contactcenter.env.example"
    for name, body in text.items():
        body = body.replace("/opt/contactcenter", str(ROOT))
        body = body.replace("/etc/contactcenter/contactcenter.env", str(env_file))
        target = name.replace("@.service", "@8001.service")
        (tmp_path / target).write_text(body)
    done = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(p.name for p in tmp_path.iterdir())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unknown" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_dockerfile_builds_one_image_for_every_role() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "collectstatic --noinput" in dockerfile  # hashed static files in the image
    assert re.search(r"^USER contactcenter$", dockerfile, re.M)  # not root
    assert '"--websocket_connect_timeout", "60"' in dockerfile
    for package in ("config", "contactcenter", "crm", "provisioning", "realtime", "telephony"):
        assert f"COPY {package} {package}" in dockerfile
    # The packages the image copies are the ones pyproject installs.
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[(.*?)\]", pyproject)
    assert include
    assert sorted(re.findall(r'"(\w+)\*"', include.group(1))) == sorted(
        ["config", "contactcenter", "crm", "provisioning", "realtime", "telephony"]
    )
