"""The bridge's side of callbacks on Asterisk (docs/callbacks.md).

Every ``callback_tick`` seconds, and soon after a batch that may have freed an agent or
ended a placed call, the bridge that serves its organization's commands (the one
``organization_pbx`` names) looks after its callbacks: offers nobody took lapse, placed
calls that ended settle their attempt, and due callbacks are offered to free agents
(contactcenter/services/callback_offers.py). An organization whose Twilio account
places its callbacks (one with a caller ID) is left to Twilio's routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils import timezone

from config.db.work import BROKEN
from contactcenter import facts as te
from contactcenter.models import Callback
from contactcenter.models.callbacks import CALLBACK_OPEN
from contactcenter.services.callback_offers import (
    callback_attempts_settle,
    callback_offers_expire,
    callbacks_offer,
)
from telephony.models import TwilioAccount
from telephony.pbx import organization_pbx

if TYPE_CHECKING:
    from telephony.ami.bridge import AmiBridge

logger = logging.getLogger(__name__)

# Facts after which a look is worth it at once: an agent may be free, a call over.
_WAKE = (
    te.CallEnded,
    te.CallAnswered,
    te.AgentMemberState,
    te.AgentPauseChanged,
    te.CallbackRequested,
)


def places_callbacks(organization_id: int, connection_key: str) -> bool:
    """Whether this connection's bridge places the organization's callbacks."""
    if organization_pbx(organization_id) != connection_key:
        return False
    twilio = TwilioAccount.objects.filter(organization_id=organization_id, is_enabled=True)
    return not twilio.exclude(caller_id="").exists()


def callbacks_tick(organization_id: int, connection_key: str) -> int:
    """One look after the organization's callbacks; returns how many were offered."""
    close_old_connections()
    scope = Callback.objects.for_organization(organization_id)
    if not scope.filter(status__in=CALLBACK_OPEN).exists():
        return 0
    if not places_callbacks(organization_id, connection_key):
        return 0
    now = timezone.now()
    callback_offers_expire(organization_id=organization_id, now=now)
    callback_attempts_settle(organization_id=organization_id, now=now)
    return len(callbacks_offer(organization_id=organization_id, now=now))


_MIN_GAP = 0.5  # seconds between two looks, however many batches wake it


class CallbackDesk:
    def __init__(self, bridge: AmiBridge) -> None:
        self.bridge = bridge
        self._wake = asyncio.Event()

    def after_batch(self, facts: list[te.Fact]) -> None:
        if any(isinstance(f, _WAKE) for f in facts):
            self._wake.set()

    async def run(self) -> None:
        """Look after the callbacks until cancelled; a failure is logged, never fatal."""
        target = self.bridge.target
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.bridge.settings.callback_tick)
            self._wake.clear()
            try:
                await sync_to_async(callbacks_tick, thread_sensitive=True)(
                    target.organization_id, target.connection_key
                )
            except BROKEN as exc:
                logger.warning("AMI %s: callbacks skipped (database: %s)", target.endpoint, exc)
            except Exception:
                logger.exception("AMI %s: callbacks failed", target.endpoint)
            # A burst of batches asks once per gap: the look shares the bridge's database
            # thread with its writer.
            await asyncio.sleep(min(_MIN_GAP, self.bridge.settings.callback_tick))
