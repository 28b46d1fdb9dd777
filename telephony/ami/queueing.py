"""app_queue's events (docs/ami.md §4): the Translator's rules for queue calls."""

from __future__ import annotations

from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import HangupParty
from telephony.ami import members
from telephony.ami.dialing import DialRules
from telephony.ami.fields import Fields, integer, text
from telephony.ami.tracker import Leg

_AGENT_REASONS = {
    "caller": HangupParty.CALLER,
    "agent": HangupParty.AGENT,
    "transfer": HangupParty.TRANSFER,
}


class QueueRules(DialRules):
    def _member_agent(self, msg: Fields) -> str:
        """The agent a queue member is: its Interface, or for a FreePBX Local member
        (``Local/1001@from-queue/n``) the phone behind it (docs/ami.md §6.6)."""
        return members.member_agent(msg, self.is_agent)

    def _queue_join(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        track = self.state.calls.get(self._key(msg))
        if track is not None:
            track.queued = True
        return [
            te.QueueJoined(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                queue=text(msg, "Queue"),
                position=integer(msg, "Position"),
            )
        ]

    def _queue_leave(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return [
            te.QueueLeft(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                queue=text(msg, "Queue"),
                count=integer(msg, "Count"),
            )
        ]

    def _queue_abandon(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return [
            te.QueueAbandoned(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                queue=text(msg, "Queue"),
                wait_seconds=integer(msg, "HoldTime"),
                position=integer(msg, "Position"),
                original_position=integer(msg, "OriginalPosition"),
            )
        ]

    def _offer_leg(self, msg: Fields, agent: str) -> Leg | None:
        leg = self._leg(msg, "Dest")
        if leg is not None:
            leg.offered_to = agent
        return leg

    def _agent_called(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        agent = self._member_agent(msg)
        leg = self._offer_leg(msg, agent)
        if leg is not None:
            leg.queue_offer = True
        track = self.state.calls.get(self._key(msg))
        if track is not None:
            track.queued = True  # known here too when the join was missed (a resync)
        return [
            te.AgentOffered(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                agent=agent,
                leg_id=text(msg, "DestUniqueid"),
                queue=text(msg, "Queue"),
            )
        ]

    def _agent_rna(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        # RingTime here is in milliseconds (docs/ami.md §4, AgentRingNoAnswer).
        return self._queue_offer_ended(msg, at, key, "no_answer", integer(msg, "RingTime"))

    def _agent_dump(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return self._queue_offer_ended(msg, at, key, "rejected", None)

    def _queue_offer_ended(
        self, msg: Fields, at: datetime, key: str, outcome: te.RingOutcome, ring_ms: int | None
    ) -> list[te.Fact]:
        if not self._close_offer(self._leg(msg, "Dest")):
            return []
        return [
            te.AgentOfferEnded(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                agent=self._member_agent(msg),
                leg_id=text(msg, "DestUniqueid"),
                outcome=outcome,
                ring_ms=ring_ms,
                queue=text(msg, "Queue"),
            )
        ]

    def _agent_connect(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        leg = self._leg(msg, "Dest")
        if leg is not None:
            leg.answered = True
        track = self.state.calls.get(self._key(msg))
        out: list[te.Fact] = []
        if track is not None:
            track.answered = True
            if track.pending_transfer:
                # A blind transfer to a queue: a member answering is the target answering.
                transfer_key, track.pending_transfer = track.pending_transfer, ""
                out.append(
                    te.TransferAnswered(
                        call_key=track.key,
                        at=at,
                        dedup_key=f"{key}:transfer",
                        transfer_key=transfer_key,
                        to_agent=self._member_agent(msg),
                    )
                )
        out.append(
            te.CallAnswered(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                agent=self._member_agent(msg),
                queue=text(msg, "Queue"),
                wait_seconds=integer(msg, "HoldTime"),
                ring_seconds=integer(msg, "RingTime"),
                leg_id=text(msg, "DestUniqueid"),
            )
        )
        return out

    def _agent_complete(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        track = self.state.calls.get(self._key(msg))
        if track is not None:
            track.answered = True
        reason = _AGENT_REASONS.get(text(msg, "Reason").lower(), HangupParty.SYSTEM)
        return [
            te.AgentCompleted(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                agent=self._member_agent(msg),
                talk_seconds=integer(msg, "TalkTime"),
                wait_seconds=integer(msg, "HoldTime"),
                reason=reason,
                queue=text(msg, "Queue"),
            )
        ]
