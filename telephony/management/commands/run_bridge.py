"""``python manage.py run_bridge``: the bridge process, one AMI connection per PBX.

Opens every enabled AsteriskConnection record plus the one in ``AMI_URL`` (bound to
``AMI_ORGANIZATION`` or the only organization). SIGINT/SIGTERM stop it cleanly: what
was received is written before it exits.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.serve import freeze_startup_objects, run_until_signal
from contactcenter import publish
from telephony import metrics
from telephony.ami.bridge import AmiBridge
from telephony.ami.targets import BridgeTarget, env_target, record_targets

logger = logging.getLogger("telephony.bridge")


def _targets() -> list[BridgeTarget]:
    targets = record_targets()
    if settings.AMI_URL:
        targets.append(env_target(settings.AMI_URL, settings.AMI_ORGANIZATION))
    return targets


class Command(BaseCommand):
    help = "Run the telephony bridge: AMI events in, call and agent records out."

    def handle(self, *args: Any, **options: Any) -> None:
        run_until_signal(self._main)

    async def _main(self, stop: asyncio.Event) -> None:
        targets = await sync_to_async(_targets)()
        if not targets:
            raise CommandError("No AMI connection: set AMI_URL or add an Asterisk connection.")
        bridges = [AmiBridge(target) for target in targets]
        metrics.watch_bridges(bridges)
        if settings.METRICS_PORT:  # this process's /metrics (docs/operations.md)
            try:
                metrics.serve(settings.METRICS_PORT, settings.METRICS_ADDR)
            except OSError as exc:
                raise CommandError(f"METRICS_PORT={settings.METRICS_PORT}: {exc}") from exc
        for bridge in bridges:
            logger.info("bridge: starting %s", bridge)
        # Changes are rendered and sent beside the writer, not in its way (realtime.publish).
        await publish.start_background()
        freeze_startup_objects()
        try:
            await asyncio.gather(*(bridge.run(stop) for bridge in bridges))
        finally:
            await publish.stop_background()
        for bridge in bridges:
            logger.info("bridge: stopped %s %s", bridge, bridge.stats)
