"""Telephony facts for the tests, applied through the real path: telephony_apply, whose
after-commit publish is what the consoles hear."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallDirection, HangupParty, TransferKind
from contactcenter.models import Organization
from contactcenter.services.telephony import ApplyResult, telephony_apply

_keys = itertools.count(1)


async def apply(
    org: Organization, *facts: te.Fact, connection: str = "asterisk:env"
) -> ApplyResult:
    result: ApplyResult = await database_sync_to_async(telephony_apply)(
        organization_id=org.pk, connection_key=connection, events=list(facts)
    )
    return result


class CallScript:
    """One call's facts, stamped a second apart from a minute ago."""

    def __init__(self, caller: str = "+15557654321", queue: str = "support") -> None:
        self.key = f"17419{next(_keys):05d}.1"
        self.caller = caller
        self.queue = queue
        self.clock = timezone.now() - timedelta(minutes=1)
        self.n = 0

    def _base(self) -> dict[str, Any]:
        self.n += 1
        self.clock += timedelta(seconds=1)
        return {"call_key": self.key, "at": self.clock, "dedup_key": f"{self.key}:{self.n}"}

    @property
    def now(self) -> datetime:
        return self.clock

    def started(self, direction: str = CallDirection.INBOUND, agent: str = "") -> te.CallStarted:
        return te.CallStarted(
            **self._base(),
            direction=direction,  # type: ignore[arg-type]
            caller_number=self.caller,
            caller_name="ADA L",
            callee_number="+15551230000",
            agent=agent,
        )

    def queued(self) -> te.QueueJoined:
        return te.QueueJoined(**self._base(), queue=self.queue, position=1)

    def offered(self, agent: str) -> te.AgentOffered:
        return te.AgentOffered(**self._base(), agent=agent, leg_id=f"{agent}-leg", queue=self.queue)

    def offer_ended(self, agent: str) -> te.AgentOfferEnded:
        return te.AgentOfferEnded(
            **self._base(), agent=agent, leg_id=f"{agent}-leg", outcome="no_answer"
        )

    def answered(self, agent: str) -> te.CallAnswered:
        return te.CallAnswered(
            **self._base(), agent=agent, queue=self.queue, wait_seconds=3, leg_id=f"{agent}-leg"
        )

    def held(self, agent: str) -> te.CallHeld:
        return te.CallHeld(**self._base(), by_agent=agent)

    def resumed(self, agent: str) -> te.CallResumed:
        return te.CallResumed(**self._base(), by_agent=agent)

    def transferred(self, from_agent: str, to_agent: str) -> te.CallTransferred:
        return te.CallTransferred(
            **self._base(),
            transfer_key=f"{self.key}:xfer",
            kind=TransferKind.BLIND,
            from_agent=from_agent,
            to_agent=to_agent,
            to_number=to_agent.split("/")[-1],
        )

    def completed(self, agent: str, reason: HangupParty = HangupParty.CALLER) -> te.AgentCompleted:
        return te.AgentCompleted(**self._base(), agent=agent, talk_seconds=5, reason=reason)

    def ended(self) -> te.CallEnded:
        return te.CallEnded(**self._base(), cause=16, cause_text="Normal Clearing")

    def abandoned(self) -> te.QueueAbandoned:
        return te.QueueAbandoned(**self._base(), queue=self.queue, wait_seconds=9)


def member_state(agent: str, queue: str, device: str = "idle", paused: bool = False) -> Any:
    return te.AgentMemberState(
        agent=agent,
        queue=queue,
        at=timezone.now(),
        device=device,  # type: ignore[arg-type]
        paused=paused,
        paused_reason="lunch" if paused else "",
    )
