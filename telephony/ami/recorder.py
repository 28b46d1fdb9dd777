"""The bridge starts recording answered calls when its organization's policy says so.

After a batch is stored, each call the batch saw answered is looked up in the
translator's live picture; the customer's leg (the first leg not an agent's phone) gets
a ``MixMonitor`` with a file name chosen here. The PBX then reports the recording
(``MixMonitorStart``, ``MIXMONITOR_FILENAME``), which is what fills the Recording row:
a refused or lost action records nothing. The customer's leg stays in the call through
transfers, so one recording covers the whole call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from contactcenter import facts as te
from telephony.ami.client import AmiError
from telephony.ami.recording import customer_leg, recording_filename
from telephony.ami.tracker import Leg

if TYPE_CHECKING:
    from telephony.ami.bridge import AmiBridge

logger = logging.getLogger(__name__)


class Recorder:
    def __init__(self, bridge: AmiBridge) -> None:
        self.bridge = bridge
        self._asked: set[str] = set()  # legs we started a recording on
        self._tasks: set[asyncio.Task[None]] = set()

    def after_batch(self, facts: list[te.Fact], record_from_start: set[str]) -> None:
        """Start recording the calls ``facts`` saw answered that the policy records from
        the start (``ApplyResult.record_from_start``, read with the batch), in the
        background: the bridge's writer does not wait on the PBX's reply."""
        answered = [
            f.call_key
            for f in facts
            if isinstance(f, te.CallAnswered) and f.call_key in record_from_start
        ]
        if not answered or self.bridge.session is None:
            return
        task = asyncio.create_task(self._start(answered))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start(self, answered: list[str]) -> None:
        for call_key in answered:
            leg = customer_leg(self.bridge.translator.state, call_key)
            if leg is None or leg.uniqueid in self._asked:
                continue
            self._asked.add(leg.uniqueid)
            await self._mixmonitor(leg)
        live = self.bridge.translator.state.legs
        self._asked &= set(live)

    async def _mixmonitor(self, leg: Leg) -> None:
        session = self.bridge.session
        if session is None:
            return
        fields = {
            "Action": "MixMonitor",
            "Channel": leg.channel,
            "File": recording_filename(self.bridge.target.organization_id, leg),
        }
        try:
            reply = await session.action(fields, as_list=False)
        except AmiError as exc:
            logger.warning("AMI %s: MixMonitor on %s: %s", self.bridge.target, leg.channel, exc)
            return
        if reply.get("Response") != "Success":
            logger.warning(
                "AMI %s: MixMonitor on %s refused: %s",
                self.bridge.target,
                leg.channel,
                reply.get("Message"),
            )
