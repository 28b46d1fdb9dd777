"""Console commands for one bridge: the channel-layer side of the PBX command path.

The desk listens on its organization's connection group (telephony.pbx.pbx_group),
turns each command into an AMI action on the bridge's live session
(telephony/ami/commands.py) and answers on the caller's reply channel. A command for
another organization is never run, nor answered (an answer could win the race against
the right bridge's): the group name already keeps them apart, this is the second lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from telephony.ami.client import AmiError, UnsafeAction
from telephony.ami.commands import CommandError, PlannedAction, plan
from telephony.pbx import pbx_group
from telephony.ratelog import RateLimitedLog

if TYPE_CHECKING:
    from telephony.ami.bridge import AmiBridge

logger = logging.getLogger(__name__)
_foreign = RateLimitedLog(logger)


class CommandDesk:
    def __init__(self, bridge: AmiBridge) -> None:
        self.bridge = bridge
        self._answers: set[asyncio.Task[None]] = set()

    async def listen(self) -> None:
        """Answer console commands. A channel-layer failure (Redis restarting, a read
        timing out while the loop is busy) is logged and the listener starts again:
        it must never take the bridge down with it."""
        layer = get_channel_layer()
        if layer is None:
            return
        target = self.bridge.target
        group = pbx_group(target.organization_id, target.connection_key)
        while True:
            channel = ""
            try:
                channel = await layer.new_channel()
                await layer.group_add(group, channel)
                while True:
                    message = await layer.receive(channel)
                    if self._admits(message):
                        task = asyncio.create_task(self._answer(layer, message))
                        self._answers.add(task)
                        task.add_done_callback(self._answers.discard)
            except asyncio.CancelledError:
                if channel:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(layer.group_discard(group, channel), 2)
                raise
            except Exception as exc:
                self.bridge.stats.last_error = f"channel layer: {exc}"
                logger.warning(
                    "AMI %s: channel layer error (%s); listening again",
                    self.bridge.target.endpoint,
                    exc,
                )
                await asyncio.sleep(self.bridge.settings.backoff_initial)

    def _admits(self, message: dict[str, Any]) -> bool:
        """A command, with somewhere to answer, for this bridge's own organization."""
        if message.get("type") != "pbx.command" or not message.get("reply_to"):
            return False
        target = self.bridge.target
        if message.get("organization") == target.organization_id:
            return True
        _foreign.warning(
            "AMI %s: refused a command for organization %r (this bridge serves %d)",
            target.endpoint,
            message.get("organization"),
            target.organization_id,
        )
        return False

    async def _answer(self, layer: Any, message: dict[str, Any]) -> None:
        params = message.get("params")
        result = await self.execute(
            str(message.get("command")), params if isinstance(params, dict) else {}
        )
        await layer.send(message["reply_to"], {"type": "pbx.result", **result})

    def _forget(self, planned: PlannedAction) -> None:
        """What the Translator was told to expect of an action the PBX did not take."""
        if planned.originate is not None:
            self.bridge.translator.forget_originate(device=planned.originate[0])
        if planned.spy is not None:
            self.bridge.translator.forget_spy(channel_id=planned.spy[0])

    async def execute(self, command: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one console command as an AMI action; the answer says how it went."""
        session = self.bridge.session
        if session is None:
            return {"ok": False, "error": "not_connected", "message": "The PBX is not connected."}
        try:
            planned = plan(
                command,
                params,
                self.bridge.translator.state,
                context=self.bridge.settings.dial_context,
            )
        except CommandError as exc:
            return {"ok": False, "error": "invalid", "message": str(exc)}
        if planned.originate is not None:
            device, number = planned.originate
            self.bridge.translator.expect_originate(device=device, number=number)
        if planned.spy is not None:
            self.bridge.translator.expect_spy(channel_id=planned.spy[0], mode=planned.spy[1])
        try:
            reply = await session.action(planned.fields, as_list=False)
        except UnsafeAction:
            self._forget(planned)
            return {"ok": False, "error": "invalid", "message": "A line break is not allowed."}
        except AmiError as exc:
            return {"ok": False, "error": "timeout", "message": str(exc)}
        ok = reply.get("Response") == "Success"
        if not ok:
            self._forget(planned)
        data = {"call": planned.fields["ChannelId"]} if planned.originate and ok else None
        if planned.spy is not None and ok:
            data = {"session": planned.spy[0]}
        if planned.spy_mode is not None and ok:
            session_id, mode = planned.spy_mode
            # ChanSpy reports no switch: the leg's end is then reported in this mode.
            spy = self.bridge.translator.state.spies.get(session_id)
            data = {"session": session_id, "mode": mode, "from": spy.mode if spy else ""}
            if spy is not None:
                spy.mode = mode
        return {
            "ok": ok,
            "error": "" if ok else "refused",
            "message": str(reply.get("Message") or ""),
            "data": data,
        }
