"""``manage.py ami_simulator``: run the Asterisk 20 AMI simulator.

Examples::

    manage.py ami_simulator --secret s3cret \
        --replay tests/telephony/transcripts/01_inbound_queue_answered.ami
    manage.py ami_simulator --secret s3cret --scenario answered --scenario blind_transfer
    manage.py ami_simulator --secret s3cret --agents 20 --load-rate 5 --duration 60 --seed 7
    manage.py ami_simulator --secret s3cret --control   # calls placed by SimulatorInboundCall

Scenarios and load start once ``--wait-clients`` clients have logged in. Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError

from config.serve import run_until_signal
from telephony.ami.simulator import (
    SCENARIOS,
    AmiSimulator,
    ConnectionPlan,
    LoadConfig,
    ReplaySpec,
    SimulatorConfig,
    Transcript,
)
from telephony.ami.simulator.cel_writer import CelWriter, cel_tables

logger = logging.getLogger("telephony.ami.simulator")


def _speed(value: str) -> float | None:
    speed = float(value)
    if speed < 0:
        raise argparse.ArgumentTypeError("speed must be >= 0 (0 = as fast as possible)")
    return speed or None


class Command(BaseCommand):
    help = "Run an AMI server that behaves like Asterisk 20 (replays, scenarios, load)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=5038)
        parser.add_argument("--username", default="bridge")
        parser.add_argument("--secret", required=True)
        parser.add_argument(
            "--replay", nargs="+", default=[], metavar="FILE", help="transcripts, in order"
        )
        parser.add_argument(
            "--speed",
            type=_speed,
            default=1.0,
            help="simulated seconds per real second (replay and live calls); 0 = flat out",
        )
        parser.add_argument("--max-delay", type=float, default=None, help="cap a replay wait")
        parser.add_argument(
            "--drop-after",
            type=int,
            default=None,
            metavar="K",
            help="the first connection is dropped after the K-th replayed message",
        )
        parser.add_argument("--scenario", action="append", default=[], choices=sorted(SCENARIOS))
        parser.add_argument("--load-rate", type=float, default=None, help="calls per second")
        parser.add_argument("--events-rate", type=float, default=None, help="events per second")
        parser.add_argument("--duration", type=float, default=None, help="load seconds")
        parser.add_argument("--max-calls", type=int, default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--agents", type=int, default=3)
        parser.add_argument(
            "--phone",
            action="append",
            default=[],
            help="another phone, in no queue (a supervisor's, to listen to calls with)",
        )
        parser.add_argument("--no-dialplan-events", action="store_true")
        parser.add_argument("--wait-clients", type=int, default=1)
        parser.add_argument("--exit-when-done", action="store_true")
        parser.add_argument(
            "--cel-database",
            default="",
            help="also log CEL, queue_log and CDR rows, as Asterisk's cel_pgsql, realtime "
            "queue_log and cdr_pgsql do, into this PostgreSQL database "
            "(postgresql://user:password@host/db; the tables are created if missing)",
        )
        parser.add_argument(
            "--control",
            action="store_true",
            help="also answer the simulator-only actions (SimulatorInboundCall: one call "
            "into a queue on demand; see telephony/ami/simulator/control.py)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            transcripts = [Transcript.load(Path(path)) for path in options["replay"]]
        except OSError as exc:
            raise CommandError(f"cannot read a transcript: {exc}") from exc
        config = SimulatorConfig(
            host=options["host"],
            port=options["port"],
            username=options["username"],
            secret=options["secret"],
            speed=options["speed"],
            seed=options["seed"],
            agents=options["agents"],
            dialplan_events=not options["no_dialplan_events"],
            control=options["control"],
            extra_phones=tuple(options["phone"]),
        )
        run_until_signal(lambda stop: self._serve(config, transcripts, options, stop))
        self.stdout.write("AMI simulator stopped.")

    async def _serve(
        self,
        config: SimulatorConfig,
        transcripts: list[Transcript],
        options: dict[str, Any],
        stop: asyncio.Event,
    ) -> None:
        replays = [
            ReplaySpec(t, speed=config.speed, max_delay=options["max_delay"]) for t in transcripts
        ]
        loop = asyncio.get_running_loop()
        simulator = AmiSimulator(config)
        live = bool(options["scenario"] or self._wants_load(options))
        # With scenarios or load asked for too, replayed sessions also get live events.
        simulator.default_plan = ConnectionPlan(replays, live_events=live or None)
        if options["drop_after"] is not None and replays:
            first = [
                ReplaySpec(transcripts[0], speed=config.speed, drop_after=options["drop_after"])
            ]
            simulator.expect_connection(ConnectionPlan(first))
        await simulator.start()
        writer = await self._cel_writer(simulator, options["cel_database"])
        self.stdout.write(
            f"AMI simulator on {config.host}:{simulator.port} (user {config.username}); "
            f"Ctrl-C stops."
        )
        work = loop.create_task(self._traffic(simulator, options))
        stopped = loop.create_task(stop.wait())
        try:
            await asyncio.wait([work, stopped], return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                work.result()  # a failed scenario or load run ends the command with its error
                if not options["exit_when_done"]:
                    await stopped
        finally:
            work.cancel()
            stopped.cancel()
            if writer is not None:
                await writer.close()
            await simulator.stop()

    @staticmethod
    async def _cel_writer(simulator: AmiSimulator, dsn: str) -> CelWriter | None:
        if not dsn:
            return None
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(cel_tables())
        except psycopg.Error as exc:
            raise CommandError(f"cannot use the CEL database: {exc}") from exc
        writer = CelWriter(dsn)
        writer.attach(simulator.pbx)
        return writer

    @staticmethod
    def _wants_load(options: dict[str, Any]) -> bool:
        keys = ("load_rate", "events_rate", "max_calls", "duration")
        return any(options[key] is not None for key in keys)

    async def _traffic(self, simulator: AmiSimulator, options: dict[str, Any]) -> None:
        wants_load = self._wants_load(options)
        if not options["scenario"] and not wants_load:
            return
        logger.info("waiting for %d client(s) to log in", options["wait_clients"])
        await simulator.wait_logged_in(options["wait_clients"])
        for name in options["scenario"]:
            await simulator.run_scenario(name).wait()
            logger.info("scenario %s finished", name)
        if wants_load:
            generator = simulator.start_load(
                LoadConfig(
                    calls_per_second=options["load_rate"],
                    events_per_second=options["events_rate"],
                    duration=options["duration"],
                    max_calls=options["max_calls"],
                    seed=options["seed"],
                )
            )
            report = await generator.wait()
            self.stdout.write(
                f"load: {report.calls} calls {report.calls_by_kind}, {report.events} events "
                f"in {report.elapsed:.1f} s ({report.events_per_second:.0f}/s)"
            )
            for event, count in sorted(report.events_by_type.items()):
                self.stdout.write(f"  {event}: {count}")
