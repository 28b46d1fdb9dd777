"""Dials, holds and transfers: the Translator's rules for them (docs/ami.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection, TransferKind
from telephony.ami.fields import Fields, device_of, text
from telephony.ami.tracker import Leg, Tracker

_RING_OUTCOMES: dict[str, te.RingOutcome] = {
    "NOANSWER": "no_answer",
    "CANCEL": "canceled",
    "BUSY": "busy",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "DONTCALL": "rejected",
    "TORTURE": "rejected",
    "INVALIDARGS": "failed",
}


class DialRules:
    """The Translator's dial, hold and transfer handlers, and the look-ups they share."""

    state: Tracker
    is_agent: Callable[[str], bool]

    def _leg(self, msg: Fields, prefix: str = "") -> Leg | None:
        return self.state.legs.get(text(msg, f"{prefix}Uniqueid"))

    def _key(self, msg: Fields, prefix: str = "") -> str:
        """The call an event belongs to: its leg's call, else its (resolved) Linkedid."""
        leg = self._leg(msg, prefix)
        if leg is not None:
            return leg.call_key
        return self.state.resolve(text(msg, f"{prefix}Linkedid"))

    def _close_offer(self, leg: Leg | None) -> bool:
        """Mark an attempt over; False when it already was (app_queue's duplicate DialEnd)."""
        if leg is None:
            return True
        if leg.offer_closed or leg.answered:
            return False
        leg.offer_closed = True
        return True

    def _dial_begin(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        dest = self._leg(msg, "Dest")
        if dest is None:
            return []
        if not text(msg, "Uniqueid"):
            # Originate dialling the agent's own phone: the click-to-call rings the agent.
            return self._offer(dest, dest.call_key, at, key) if dest.is_agent else []
        track = self.state.calls.get(self._key(msg))
        if track is None or dest.queue_offer:
            return []  # app_queue's own dial: AgentCalled said it already
        if dest.is_agent:
            return self._offer(dest, track.key, at, key)
        if track.agent:
            # An agent's call reaching out of the PBX: an outbound call to that number.
            track.direction = CallDirection.OUTBOUND
            number = text(msg, "DialString").split("@", 1)[0] or text(msg, "DestExten")
            return [
                te.CallStarted(
                    call_key=track.key,
                    at=at,
                    dedup_key=key,
                    direction=CallDirection.OUTBOUND,
                    callee_number=number,
                    agent=track.agent,
                )
            ]
        return []

    @staticmethod
    def _offer(dest: Leg, call_key: str, at: datetime, key: str) -> list[te.TelephonyEvent]:
        """The agent's phone (``dest``) rings for this call outside app_queue."""
        dest.offered_to = dest.device
        return [
            te.AgentOffered(
                call_key=call_key, at=at, dedup_key=key, agent=dest.device, leg_id=dest.uniqueid
            )
        ]

    def _dial_end(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        dest = self._leg(msg, "Dest")
        status = text(msg, "DialStatus").upper()
        if dest is None:
            return []
        caller_block = bool(text(msg, "Uniqueid"))
        track = self.state.calls.get(self._key(msg) if caller_block else dest.call_key)
        if status != "ANSWER":
            if track is not None and not dest.is_agent:
                track.last_dial_status = status
            if not dest.offered_to or not self._close_offer(dest):
                return []
            return [
                te.AgentOfferEnded(
                    call_key=dest.call_key,
                    at=at,
                    dedup_key=key,
                    agent=dest.offered_to,
                    leg_id=dest.uniqueid,
                    outcome=_RING_OUTCOMES.get(status, "canceled"),
                )
            ]
        if dest.answered or not caller_block or dest.queue_offer or track is None:
            # Already counted, the agent picking up a click-to-call, or app_queue's answer
            # (AgentConnect carries it, with the wait and ring times).
            dest.answered = dest.answered or not dest.queue_offer
            return []
        dest.answered = True
        # The phone was picked up at its Newstate Up; DialEnd reports it a moment later.
        at = dest.up_at or at
        if track.pending_transfer:
            transfer_key, track.pending_transfer = track.pending_transfer, ""
            return [
                te.TransferAnswered(
                    call_key=track.key,
                    at=at,
                    dedup_key=key,
                    transfer_key=transfer_key,
                    to_agent=dest.device if dest.is_agent else "",
                )
            ]
        track.answered = True
        agent = dest.device if dest.is_agent else track.agent
        return [
            te.CallAnswered(
                call_key=track.key, at=at, dedup_key=key, agent=agent, leg_id=dest.uniqueid
            )
        ]

    def _hold(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        return self._hold_change(msg, at, key, te.CallHeld)

    def _unhold(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        return self._hold_change(msg, at, key, te.CallResumed)

    def _hold_change(
        self, msg: Fields, at: datetime, key: str, fact: type[te.CallHeld | te.CallResumed]
    ) -> list[te.TelephonyEvent]:
        # Hold is per leg, on the channel that asked for it; MusicOnHold is not a hold.
        leg = self._leg(msg)
        if leg is None:
            return []
        by_agent = leg.device if leg.is_agent else ""
        return [fact(call_key=leg.call_key, at=at, dedup_key=key, by_agent=by_agent)]

    def _agent_device(self, channel: str) -> str:
        device = device_of(channel)
        return device if self.is_agent(device) else ""

    def _blind_transfer(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        call_key = self.state.resolve(
            text(msg, "TransfereeLinkedid") or text(msg, "TransfererLinkedid")
        )
        succeeded = text(msg, "Result") == "Success"
        target = text(msg, "Extension")
        context = text(msg, "Context")
        transfer_key = f"blind:{text(msg, 'TransfererUniqueid')}:{text(msg, 'Timestamp')}"
        track = self.state.calls.get(call_key)
        if succeeded and track is not None:
            track.pending_transfer = transfer_key
        return [
            te.CallTransferred(
                call_key=call_key,
                at=at,
                dedup_key=key,
                transfer_key=transfer_key,
                kind=TransferKind.BLIND,
                from_agent=self._agent_device(text(msg, "TransfererChannel")),
                to_number=f"{target}@{context}" if context else target,
                succeeded=succeeded,
                result=text(msg, "Result"),
            )
        ]

    def _attended_transfer(self, msg: Fields, at: datetime, key: str) -> list[te.TelephonyEvent]:
        customer = self.state.resolve(
            text(msg, "TransfereeLinkedid") or text(msg, "OrigTransfererLinkedid")
        )
        succeeded = text(msg, "Result") == "Success"
        target_uid = text(msg, "TransferTargetUniqueid")
        target = self.state.legs.get(target_uid)
        transfer_key = f"attended:{text(msg, 'OrigTransfererUniqueid')}:{text(msg, 'Timestamp')}"
        to_agent = self._agent_device(text(msg, "TransferTargetChannel"))
        out: list[te.TelephonyEvent] = [
            te.CallTransferred(
                call_key=customer,
                at=at,
                dedup_key=key,
                transfer_key=transfer_key,
                kind=TransferKind.ATTENDED,
                from_agent=self._agent_device(text(msg, "OrigTransfererChannel")),
                to_agent=to_agent,
                to_number=text(msg, "TransferTargetCallerIDNum")
                or device_of(text(msg, "TransferTargetChannel")),
                succeeded=succeeded,
                result=text(msg, "Result"),
            )
        ]
        if not succeeded:
            return out
        consult = self.state.resolve(
            text(msg, "SecondTransfererLinkedid") or text(msg, "TransferTargetLinkedid")
        )
        if consult and consult != customer:
            out.extend(self._fold(consult, customer, at, key))
        if target is not None:
            self.state.attach(target, customer)
            if target.up:
                out.append(
                    te.TransferAnswered(
                        call_key=customer,
                        at=at,
                        dedup_key=f"{key}:answered",
                        transfer_key=transfer_key,
                        to_agent=to_agent,
                    )
                )
            else:  # completed while the target still rings: its answer comes later
                self.state.transfer_targets[target.uniqueid] = (customer, transfer_key)
        return out

    def _fold(self, consult: str, customer: str, at: datetime, key: str) -> list[te.TelephonyEvent]:
        """The consultation call becomes part of the customer's call."""
        track = self.state.calls.pop(consult, None)
        self.state.merged_into[consult] = customer
        if track is not None:
            for uid in list(track.legs):
                leg = self.state.legs.get(uid)
                if leg is not None:
                    self.state.attach(leg, customer)
        return [te.CallMerged(call_key=consult, at=at, dedup_key=f"{key}:merge", into_key=customer)]
