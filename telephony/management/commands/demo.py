"""``python manage.py demo``: the product live in one process (what ``./scripts/run`` starts).

``--role all`` (the default): the ASGI server (Daphne), the AMI bridge and the AMI
simulator placing a trickle of calls, as tasks on one asyncio loop. ``--role web`` is
the server alone and ``--role pbx`` the simulator alone, for running the bridge as its
own process (``run_bridge``) against PostgreSQL and Redis. Run ``seed_demo`` first.
SIGINT (Ctrl-C) or SIGTERM stops everything and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.module_loading import import_string

from config.serve import run_until_signal
from contactcenter.models import Organization
from provisioning.demo import DEMO_ORG_SLUG, DEMO_PASSWORD, USERS
from telephony.ami.targets import env_target
from telephony.demo import (
    DEMO_CALLS_PER_SECOND,
    DEMO_WAVE_PERIOD,
    DemoConfig,
    DemoPbx,
    end_open_calls,
    run_demo,
)

ROLES = ("all", "web", "pbx")


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


class Command(BaseCommand):
    help = "Run the live demo: server, bridge and simulated PBX (see --role)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--role", choices=ROLES, default="all")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="HTTP port (0: any)")
        parser.add_argument("--ami-port", type=int, default=0, help="simulator port (0: any)")
        parser.add_argument("--ami-username", default="demo")
        parser.add_argument("--ami-secret", default="", help="default: a random one")
        parser.add_argument("--speed", type=_positive, default=1.0, help="simulated s per s")
        parser.add_argument(
            "--load-rate",
            type=_positive,
            default=DEMO_CALLS_PER_SECOND,
            help="calls per second, on average (the rate swings slowly around it)",
        )
        parser.add_argument(
            "--steady", action="store_true", help="a steady rate: no calm and pressure periods"
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        config = DemoConfig(
            organization_slug=DEMO_ORG_SLUG,
            ami_port=options["ami_port"],
            username=options["ami_username"],
            speed=options["speed"],
            calls_per_second=options["load_rate"],
            seed=options["seed"],
            secret=options["ami_secret"] or secrets.token_urlsafe(12),
            wave_period=None if options["steady"] else DEMO_WAVE_PERIOD,
        )
        with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before anything started
            if options["role"] == "pbx":
                run_until_signal(lambda stop: self._pbx_only(config, stop))
            else:
                self._serve(config, options)
        self.stdout.write("Stopped.")

    def _serve(self, config: DemoConfig, options: dict[str, Any]) -> None:
        # The project's ASGI application, by the setting that names it (as Channels'
        # runserver finds it): the whole server, the screens included, in this process.
        application = import_string(settings.ASGI_APPLICATION)
        from config.serve import ServeError, serve

        work = None
        if options["role"] == "all":
            try:
                seeded = Organization.objects.filter(slug=DEMO_ORG_SLUG).exists()
            except DatabaseError as exc:
                raise CommandError(f"The database is not ready ({exc}): run migrate.") from exc
            if not seeded:
                raise CommandError("No demo organization: run `manage.py seed_demo` first.")

            async def work(stop: asyncio.Event) -> None:
                pbx = DemoPbx(config)
                await pbx.start()
                # Console commands find the bridge of the demo organization through these.
                settings.AMI_URL, settings.AMI_ORGANIZATION = pbx.ami_url, DEMO_ORG_SLUG
                self.stdout.write(f"    simulated PBX (AMI) on 127.0.0.1:{pbx.simulator.port}")
                await run_demo(config, stop, pbx)

        try:
            serve(
                application,
                host=options["host"],
                port=options["port"],
                work=work,
                on_listening=self._banner,
            )
        except ServeError as exc:
            raise CommandError(str(exc)) from exc

    async def _pbx_only(self, config: DemoConfig, stop: asyncio.Event) -> None:
        pbx = DemoPbx(config)
        try:
            await pbx.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on port {config.ami_port}: {exc}") from exc
        self.stdout.write(
            f"simulated PBX (AMI) on {config.ami_host}:{pbx.simulator.port}, "
            f"user {config.username}; calls start when the bridge logs in."
        )
        await pbx.run(stop)
        if settings.AMI_URL:
            # scripts/run's Redis mode: run_bridge records this PBX as AMI_URL, and stops
            # with it without hearing the hangups of the calls it cut.
            target = await sync_to_async(env_target)(settings.AMI_URL, settings.AMI_ORGANIZATION)
            await end_open_calls(target)

    def _banner(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        logins = ", ".join(name for name, *_ in USERS)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"==> contact center live on {base}/",
                    f"    agent console   {base}/console/",
                    f"    wallboard       {base}/wallboard/",
                    f"    API docs        {base}/api/docs/",
                    f"    metrics         {base}/metrics",
                    f"    logins          {logins}  (password: {DEMO_PASSWORD})",
                    "    Ctrl-C stops.",
                    "",
                ]
            )
        )
        self.stdout.flush()
