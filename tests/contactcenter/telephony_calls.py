"""One answered queue call as telephony facts, on a fixed clock: shared by the tests of
contactcenter/services/telephony/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contactcenter import facts as te
from contactcenter.enums import CallDirection, HangupParty

T0 = datetime(2025, 3, 14, 11, 0, 0, 104512, tzinfo=UTC)
KEY = "1741950000.1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered_call(agent: str) -> list[te.Fact]:
    """Shape of transcript 01: queue call answered after 6 s, 120 s talk, caller hangs up."""
    return [
        te.CallStarted(
            call_key=KEY,
            at=at(0),
            dedup_key="1",
            direction=CallDirection.INBOUND,
            caller_number="+15557654321",
            caller_name="JOHN SMITH",
            callee_number="+15551230000",
        ),
        te.QueueJoined(call_key=KEY, at=at(0.05), dedup_key="2", queue="support", position=1),
        te.AgentOffered(
            call_key=KEY, at=at(0.2), dedup_key="3", agent=agent, leg_id="L2", queue="support"
        ),
        te.CallAnswered(
            call_key=KEY,
            at=at(6.313431),
            dedup_key="4",
            agent=agent,
            queue="support",
            wait_seconds=6,
            ring_seconds=6,
            leg_id="L2",
        ),
        te.AgentCompleted(
            call_key=KEY,
            at=at(126.3),
            dedup_key="5",
            agent=agent,
            talk_seconds=120,
            reason=HangupParty.CALLER,
            queue="support",
        ),
        te.CallEnded(
            call_key=KEY, at=at(126.535379), dedup_key="6", cause=16, cause_text="Normal Clearing"
        ),
    ]
