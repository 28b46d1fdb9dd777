"""``/ws/supervisor/``: the supervisor page, for supervisors and admins of the organization.

Every agent (also those in no queue) with their state, queues and call, the callers
waiting; the same commands as the wallboard (``realtime.supervision``). A change on the
floor reaches the page as a ``floor.changed`` ping on its organization's supervisors
group; the page reads the floor again at most once per ``REALTIME_COALESCE_MS`` and
sends it whole (``floor.update``). Supervisor pages are few, so each reads its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from contactcenter.selectors.access import is_floor_role
from realtime import messages as msgs
from realtime import supervision
from realtime.consumers.base import StreamConsumer
from realtime.groups import alerts_group, floor_group, supervisors_group
from realtime.protocol import WALLBOARD_COMMANDS, CloseCode
from realtime.screens.floor import floor_update, supervisor_snapshot

logger = logging.getLogger(__name__)


class SupervisorConsumer(StreamConsumer):
    stream = "supervisor"
    catalogue = WALLBOARD_COMMANDS
    handlers = supervision.HANDLERS

    async def authorize(self) -> int | None:
        if not is_floor_role(self.caller.membership.role):
            return CloseCode.FORBIDDEN
        self.dirty = False
        self.refresher: asyncio.Task[None] | None = None
        self.last_read = float("-inf")
        return None

    def groups_to_join(self) -> list[str]:
        organization_id = self.caller.organization_id
        return [
            floor_group(organization_id),
            supervisors_group(organization_id),
            alerts_group(organization_id),
        ]

    async def snapshot(self) -> msgs.Model:
        return await database_sync_to_async(supervisor_snapshot)(self.caller)

    async def closing(self) -> None:
        if self.refresher is not None:
            self.refresher.cancel()

    async def agent_presence(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def alert_raised(self, message: dict[str, Any]) -> None:
        await self.forward(message)  # the queue alerts (docs/supervisor.md#alerts)

    async def alert_cleared(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def floor_changed(self, message: dict[str, Any]) -> None:
        self.dirty = True
        if self.refresher is None or self.refresher.done():
            self.refresher = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        """Read the floor while it keeps changing, at most once per interval: at once
        after a quiet spell, so a lone change is on the page in milliseconds."""
        loop = asyncio.get_running_loop()
        interval = settings.REALTIME_COALESCE_MS / 1000
        while self.dirty and not self.closed:
            wait = self.last_read + interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # the coalescing window itself
            if not self.snapshot_sent:
                await asyncio.sleep(interval)  # the snapshot will be at least as new
                continue
            self.dirty = False
            self.last_read = loop.time()
            try:
                data = await database_sync_to_async(floor_update)(self.caller.organization_id)
            except Exception:
                logger.exception("supervisor page: reading the floor failed")
                self.dirty = True
                await asyncio.sleep(interval)
                continue
            await self.emit("floor.update", data)
