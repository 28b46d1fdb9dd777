"""``/ws/agent/``: one agent console tab.

Hears its agent's state, presence, calls (with the screen pop), cases, the user's
notifications, and the figures of the agent's queues; sends the console commands.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from contactcenter.figures import QueueFigures
from realtime import commands, feed, presence
from realtime import messages as msgs
from realtime.consumers.base import StreamConsumer
from realtime.groups import agent_group, user_group
from realtime.protocol import AGENT_COMMANDS, CloseCode
from realtime.screens.snapshot import Caller, agent_queue_ids, agent_snapshot


def _snapshot(
    caller: Caller, figures: list[QueueFigures]
) -> tuple[list[int], msgs.AgentSnapshotData]:
    """The agent's queues (the console's until it reconnects) and the snapshot, with the
    figures of those queues among the organization's ``figures``."""
    assert caller.agent is not None
    queue_ids = agent_queue_ids(caller.agent)
    wanted = set(queue_ids)
    mine = [m for m in figures if m.queue_id in wanted]
    return queue_ids, agent_snapshot(caller, online=True, figures=mine)


class AgentConsumer(StreamConsumer):
    stream = "agent"
    catalogue = AGENT_COMMANDS
    handlers = commands.HANDLERS

    async def authorize(self) -> int | None:
        agent = self.caller.agent
        if agent is None or not agent.is_active:
            return CloseCode.FORBIDDEN
        return None

    @property
    def agent_id(self) -> int:
        assert self.caller.agent is not None
        return self.caller.agent.pk

    def groups_to_join(self) -> list[str]:
        return [
            agent_group(self.agent_id),
            user_group(self.caller.membership.user_id),
        ]  # queue figures come from realtime.feed: one subscription per process

    async def opened(self) -> None:
        # Presence before the snapshot: the publisher renders calls only for agents it
        # sees online, so a change committed after the snapshot is never skipped.
        await presence.console_connected(**self._presence_key())
        self.on_screen: set[int] = set()
        self.queue_ids: set[int] = set()
        await feed.subscribe(
            self.caller.organization_id, self, every_ms=settings.REALTIME_CONSOLE_COALESCE_MS
        )

    async def snapshot(self) -> msgs.Model:
        # The queue figures are one read for every snapshot of the organization that asks
        # at the same time (a reconnect storm), not one each; the rest is one turn of the
        # database thread.
        figures = await feed.snapshot_figures(self.caller.organization_id, self)
        queue_ids, data = await database_sync_to_async(_snapshot)(self.caller, figures)
        self.queue_ids = set(queue_ids)
        self.on_screen = {entry.call.id for entry in data.calls}
        return data

    async def closing(self) -> None:
        feed.unsubscribe(self.caller.organization_id, self)
        await presence.console_closed(**self._presence_key())

    def _presence_key(self) -> dict[str, Any]:
        return {
            "organization_id": self.caller.organization_id,
            "agent_id": self.agent_id,
            "connection": self.channel_name,
        }

    # -- published messages (realtime.publish) ----------------------------------------------

    async def agent_state(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def agent_presence(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def _call(self, message: dict[str, Any]) -> None:
        self.on_screen.add(message["data"]["call"]["id"])
        await self.forward(message)

    async def call_ringing(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_answered(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_held(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_resumed(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_transferred(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_ended(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_updated(self, message: dict[str, Any]) -> None:
        await self._call(message)

    async def call_removed(self, message: dict[str, Any]) -> None:
        # Agents hear of every call they were part of; a tab that never showed this one
        # has nothing to remove.
        call_id = message["data"]["call_id"]
        if call_id in self.on_screen:
            self.on_screen.discard(call_id)
            await self.forward(message)

    async def case_created(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def notification_created(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def notification_read(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def voicemail_updated(self, message: dict[str, Any]) -> None:
        await self.forward(message)

    async def queues_updated(self, update: feed.FeedUpdate) -> None:
        if self.figures_wait(update.queue_ids) or not self.queue_ids & update.queue_ids:
            return
        for queue_id, data in (await update.stats_data()).items():
            if queue_id in self.queue_ids:
                await self.emit_encoded("queue.stats", data)
