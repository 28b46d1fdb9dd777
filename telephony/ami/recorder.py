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

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from config.db.work import BROKEN
from contactcenter import facts as te
from contactcenter.selectors.recordings import recorded_queues
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

    def after_batch(self, facts: list[te.Fact]) -> None:
        """Start recording the calls ``facts`` saw answered (in the background: the
        bridge's writer does not wait on the policy read or the PBX's reply)."""
        answered = {f.call_key: f.queue for f in facts if isinstance(f, te.CallAnswered)}
        if not answered or self.bridge.session is None:
            return
        task = asyncio.create_task(self._start(answered))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _policy(self, queues: list[str]) -> dict[str, bool]:
        close_old_connections()
        return recorded_queues(organization_id=self.bridge.target.organization_id, queues=queues)

    async def _start(self, answered: dict[str, str]) -> None:
        policy = await self._read_policy(answered)
        if policy is None:
            return
        for call_key, queue in answered.items():
            leg = customer_leg(self.bridge.translator.state, call_key)
            if not policy.get(queue) or leg is None or leg.uniqueid in self._asked:
                continue
            self._asked.add(leg.uniqueid)
            await self._mixmonitor(leg)
        live = self.bridge.translator.state.legs
        self._asked &= set(live)

    async def _read_policy(self, answered: dict[str, str]) -> dict[str, bool] | None:
        """The policy of the answered calls' queues. While the database is away the read is
        retried, as the bridge's writer retries its batch, for as long as one of the calls
        is still live (a call that ended meanwhile has nothing left to record)."""
        queues = sorted(set(answered.values()))
        delay = self.bridge.settings.backoff_initial
        while True:
            try:
                return await sync_to_async(self._policy, thread_sensitive=True)(queues)
            except BROKEN as exc:
                logger.warning(
                    "AMI %s: database unavailable for the recording policy (%s); retry in %.1fs",
                    self.bridge.target.endpoint,
                    exc,
                    delay,
                )
            except Exception:
                logger.exception("AMI %s: cannot read the recording policy", self.bridge.target)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.bridge.settings.backoff_max)
            state = self.bridge.translator.state
            if self.bridge.session is None or all(
                customer_leg(state, key) is None for key in answered
            ):
                return None

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
