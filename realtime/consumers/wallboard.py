"""``/ws/wallboard/``: a supervisor's or admin's wallboard, whole floor or ``?queue=<id>``.

It takes the supervisor's commands too (``realtime.supervision``): pause, log out,
queue membership, hang up a stuck call.

The figures are pushed coalesced (``realtime.feed``): at most one ``wallboard.update``
(the changed queues and the totals) per ``REALTIME_COALESCE_MS``.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from contactcenter.selectors.access import is_floor_role
from realtime import feed, supervision
from realtime import messages as msgs
from realtime.auth import query_param
from realtime.consumers.base import StreamConsumer
from realtime.groups import alerts_group, floor_group
from realtime.protocol import WALLBOARD_COMMANDS, CloseCode
from realtime.screens.snapshot import wallboard_queue_exists, wallboard_snapshot


class WallboardConsumer(StreamConsumer):
    stream = "wallboard"
    judges_alerts = True  # its figures are judged against the queues' alert thresholds
    catalogue = WALLBOARD_COMMANDS
    handlers = supervision.HANDLERS

    async def authorize(self) -> int | None:
        if not is_floor_role(self.caller.membership.role):
            return CloseCode.FORBIDDEN
        raw = query_param(self.scope, "queue")
        self.queue_id: int | None = None
        if raw is None or raw == "":
            return None
        # ASCII digits only: str.isdigit() also takes "²", which int() then refuses;
        # 18 digits keep the id within the database's bigint.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            return CloseCode.BAD_REQUEST
        self.queue_id = int(raw)
        exists = await database_sync_to_async(wallboard_queue_exists)(self.caller, self.queue_id)
        return None if exists else CloseCode.NOT_FOUND

    def groups_to_join(self) -> list[str]:
        # Queue figures come from realtime.feed: one subscription per process.
        organization_id = self.caller.organization_id
        return [floor_group(organization_id), alerts_group(organization_id)]

    async def opened(self) -> None:
        await feed.subscribe(self.caller.organization_id, self)

    async def snapshot(self) -> msgs.Model:
        # One read of the board for the wallboards of a scope that open together.
        board = await feed.snapshot_board(self.caller.organization_id, self, self.queue_id)
        return await database_sync_to_async(wallboard_snapshot)(
            self.caller, queue_id=self.queue_id, board=board
        )

    async def closing(self) -> None:
        feed.unsubscribe(self.caller.organization_id, self)

    async def agent_presence(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def alert_raised(self, message: dict[str, Any]) -> None:
        await self._alert(message)

    async def alert_cleared(self, message: dict[str, Any]) -> None:
        await self._alert(message)

    async def _alert(self, message: dict[str, Any]) -> None:
        # A one-queue wallboard shows that queue's alerts only.
        if self.queue_id is None or message["data"]["alert"]["queue_id"] == self.queue_id:
            await self.forward(message)

    async def queues_updated(self, update: feed.FeedUpdate) -> None:
        if self.figures_wait(update.queue_ids):
            return
        if self.queue_id is not None and self.queue_id not in update.queue_ids:
            return
        await self.emit_encoded("wallboard.update", await update.board_data(self.queue_id))
