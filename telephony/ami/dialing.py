"""Dials, holds and transfers: the Translator's rules for them (docs/ami.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection, TransferKind
from telephony.ami.fields import Fields, device_of, text
from telephony.ami.tracker import CallTrack, Leg, Tracker

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


def dialled_number(dial_string: str) -> str:
    """The number in a Dial string: ``+4420...@trunk`` (PJSIP), ``trunk/+4420...`` (chan_sip)."""
    return dial_string.split("@", 1)[0].rsplit("/", 1)[-1]


def external_number(exten: str) -> bool:
    """A dialled string that leaves the PBX (not an internal extension or feature code)."""
    digits = exten.lstrip("+")
    return exten.startswith("+") or (digits.isdigit() and len(digits) >= 7)


def _started_by(msg: Fields, prefix: str) -> bool:
    """The channel of this block started its call (its Uniqueid is the call's Linkedid)."""
    uniqueid = text(msg, f"{prefix}Uniqueid")
    return bool(uniqueid) and uniqueid == text(msg, f"{prefix}Linkedid")


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

    def _dial_begin(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        dest = self._leg(msg, "Dest")
        if dest is None:
            return []
        if not text(msg, "Uniqueid"):
            # An Originate dialling its first party (the agent's phone): a click-to-dial.
            # (A phone's own call has no such dial, even when chan_sip shows it Down.)
            origin = self.state.calls.get(dest.call_key)
            if origin is not None and origin.first_leg == dest.uniqueid:
                origin.originated = True
                origin.origin_device = origin.origin_device or dest.device
                if not dest.local:  # a Local channel's ;2 half rings the phone later
                    origin.originator_leg = origin.originator_leg or dest.uniqueid
            return self._offer(dest, dest.call_key, at, key) if dest.is_agent else []
        track = self.state.calls.get(self._key(msg))
        if track is None or dest.queue_offer:
            return []  # app_queue's own dial: AgentCalled said it already
        if dest.is_agent and track.queued and text(msg, "Channel").startswith("Local/"):
            # A Local queue member's half ringing the phone: AgentCalled said it already.
            dest.queue_offer = True
            dest.offered_to = dest.device
            return []
        out: list[te.Fact] = []
        if track.originated and not track.originator_leg and dest.is_agent and not track.answered:
            # An Originate through a Local channel: the first phone it rings is the agent's,
            # who places the call.
            track.originator_leg = dest.uniqueid
            track.agent = dest.device
            out.append(
                te.CallStarted(
                    call_key=track.key,
                    at=at,
                    dedup_key=f"{key}:origin",
                    direction=CallDirection(track.direction),
                    caller_number=dest.device.partition("/")[2],
                    agent=dest.device,
                )
            )
        if dest.is_agent:
            return out + self._offer(dest, track.key, at, key)
        if track.internal_origin and not dest.internal and not track.called_out:
            # A call placed on our side reaching out of the PBX: outbound, to that number.
            track.called_out = True
            track.direction = CallDirection.OUTBOUND
            number = dialled_number(text(msg, "DialString")) or text(msg, "DestExten")
            track.dialled = track.dialled or number
            out.append(
                te.CallStarted(
                    call_key=track.key,
                    at=at,
                    dedup_key=key,
                    direction=CallDirection.OUTBOUND,
                    callee_number=number,
                    agent=track.agent,
                )
            )
        return out

    @staticmethod
    def _offer(dest: Leg, call_key: str, at: datetime, key: str) -> list[te.Fact]:
        """The agent's phone (``dest``) rings for this call outside app_queue."""
        dest.offered_to = dest.device
        return [
            te.AgentOffered(
                call_key=call_key, at=at, dedup_key=key, agent=dest.device, leg_id=dest.uniqueid
            )
        ]

    def _dial_end(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        dest = self._leg(msg, "Dest")
        status = text(msg, "DialStatus").upper()
        if dest is None:
            return []
        caller_block = bool(text(msg, "Uniqueid"))
        track = self.state.calls.get(self._key(msg) if caller_block else dest.call_key)
        if status != "ANSWER":
            return self._not_answered(track, dest, status, caller_block, at, key)
        if track is not None and dest.uniqueid == track.originator_leg:
            # The agent's phone took the click-to-dial: now the PBX dials the customer.
            if track.originator_answered:
                return []
            track.originator_answered = dest.answered = True
            return [
                te.OriginatorConnected(
                    call_key=track.key,
                    at=dest.up_at or at,
                    dedup_key=key,
                    agent=dest.device if dest.is_agent else "",
                    leg_id=dest.uniqueid,
                )
            ]
        if dest.answered or not caller_block or dest.queue_offer or track is None:
            # Already counted, or app_queue's answer (AgentConnect carries it, with the
            # wait and ring times): the phone is answered either way.
            dest.answered = True
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

    def _not_answered(
        self,
        track: CallTrack | None,
        dest: Leg,
        status: str,
        caller_block: bool,
        at: datetime,
        key: str,
    ) -> list[te.Fact]:
        out: list[te.Fact] = []
        if track is not None and not dest.is_agent:
            track.last_dial_status = status
        if track is not None and caller_block and not dest.queue_offer:
            # A blind transfer's target did not answer: the transfer reached no one.
            failed = self._transfer_failed(track, _RING_OUTCOMES.get(status, "failed"), at, key)
            if failed:
                # Its Hangup cause may tell more (a phone that declined: Cause 21).
                dest.failed_transfer = (track.key, failed[0].transfer_key)
            out += failed
        if not dest.offered_to or not self._close_offer(dest):
            return out
        out.append(
            te.AgentOfferEnded(
                call_key=dest.call_key,
                at=at,
                dedup_key=key,
                agent=dest.offered_to,
                leg_id=dest.uniqueid,
                outcome=_RING_OUTCOMES.get(status, "canceled"),
            )
        )
        return out

    @staticmethod
    def _transfer_failed(
        track: CallTrack, reason: str, at: datetime, key: str
    ) -> list[te.TransferFailed]:
        """The call's pending blind transfer reached no one (``reason``); [] if none."""
        if not track.pending_transfer:
            return []
        transfer_key, track.pending_transfer = track.pending_transfer, ""
        return [
            te.TransferFailed(
                call_key=track.key,
                at=at,
                dedup_key=f"{key}:transfer",
                transfer_key=transfer_key,
                reason=reason,
            )
        ]

    def _hold(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return self._hold_change(msg, at, key, te.CallHeld)

    def _unhold(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return self._hold_change(msg, at, key, te.CallResumed)

    def _hold_change(
        self, msg: Fields, at: datetime, key: str, fact: type[te.CallHeld | te.CallResumed]
    ) -> list[te.Fact]:
        # Hold is per leg, on the channel that asked for it; MusicOnHold is not a hold.
        leg = self._leg(msg)
        if leg is None:
            return []
        if fact is te.CallResumed:
            if not leg.held and not leg.hold_unknown:
                # A leg that never held (a consultation leg, at its transfer): nothing
                # resumes.
                return []
            leg.held = leg.hold_unknown = False
        else:
            leg.held = True
        by_agent = leg.device if leg.is_agent else ""
        return [fact(call_key=leg.call_key, at=at, dedup_key=key, by_agent=by_agent)]

    def _agent_device(self, channel: str) -> str:
        device = device_of(channel)
        return device if self.is_agent(device) else ""

    def _blind_transfer(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
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
        transferer = self.state.legs.get(text(msg, "TransfererUniqueid"))
        if succeeded and transferer is not None:
            transferer.transferred = True
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
                # REFER accepted is all Result: Success says; the target's dial tells.
                awaiting_target=succeeded,
            )
        ]

    def _attended_transfer(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        succeeded = text(msg, "Result") == "Success"
        transfer_key = f"attended:{text(msg, 'OrigTransfererUniqueid')}:{text(msg, 'Timestamp')}"
        from_agent = self._agent_device(text(msg, "OrigTransfererChannel"))
        # A consultation is a call the transferer itself placed: its leg started it
        # (Uniqueid = Linkedid, before the transfer rewrote anything).
        placed_orig = _started_by(msg, "OrigTransferer")
        placed_second = _started_by(msg, "SecondTransferer")
        if succeeded and not placed_orig and not placed_second:
            joined = self._join(msg, at, key, transfer_key, from_agent)
            if joined:
                return joined
        if placed_orig and not placed_second:
            # The phone sent the transfer on the consultation's dialog: the customer is
            # on the other side.
            customer = self.state.resolve(text(msg, "SecondTransfererLinkedid"))
            consult = self.state.resolve(text(msg, "OrigTransfererLinkedid"))
            target_prefix = "Transferee"
        else:
            customer = self.state.resolve(
                text(msg, "TransfereeLinkedid") or text(msg, "OrigTransfererLinkedid")
            )
            consult = self.state.resolve(
                text(msg, "SecondTransfererLinkedid") or text(msg, "TransferTargetLinkedid")
            )
            target_prefix = "TransferTarget"
        self._transferers_leave(msg, succeeded)
        target = self.state.legs.get(text(msg, f"{target_prefix}Uniqueid"))
        to_agent = self._agent_device(text(msg, f"{target_prefix}Channel"))
        out: list[te.Fact] = [
            te.CallTransferred(
                call_key=customer,
                at=at,
                dedup_key=key,
                transfer_key=transfer_key,
                kind=TransferKind.ATTENDED,
                from_agent=from_agent,
                to_agent=to_agent,
                to_number=text(msg, f"{target_prefix}CallerIDNum")
                or device_of(text(msg, f"{target_prefix}Channel")),
                succeeded=succeeded,
                result=text(msg, "Result"),
            )
        ]
        if not succeeded:
            return out
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

    def _transferers_leave(self, msg: Fields, succeeded: bool) -> None:
        """After a transfer the transferer's legs hang up: that is no party hanging up."""
        if not succeeded:
            return
        for prefix in ("OrigTransferer", "SecondTransferer"):
            leg = self.state.legs.get(text(msg, f"{prefix}Uniqueid"))
            if leg is not None:
                leg.transferred = True

    def _join(
        self, msg: Fields, at: datetime, key: str, transfer_key: str, from_agent: str
    ) -> list[te.Fact]:
        """Two calls of customers joined by the agent both reached: each keeps its record.

        Asterisk gives the moved channel the older call's Linkedid; here each customer's
        leg stays in its own call (so each ends when its customer hangs up), and both calls
        name the other and the transfer.
        """
        first = self.state.resolve(text(msg, "TransfereeLinkedid"))
        second = self.state.resolve(text(msg, "TransferTargetLinkedid"))
        if not first or not second or first == second:
            return []
        self._transferers_leave(msg, True)
        for prefix, call_key in (("Transferee", first), ("TransferTarget", second)):
            leg = self.state.legs.get(text(msg, f"{prefix}Uniqueid"))
            if leg is not None:
                self.state.attach(leg, call_key)
                leg.pinned = True
        for one, other in ((first, second), (second, first)):
            track = self.state.calls.get(one)
            if track is not None:
                track.joined_with.add(other)
        return [
            te.CallTransferred(
                call_key=call_key,
                at=at,
                dedup_key=f"{key}{suffix}",
                transfer_key=f"{transfer_key}{suffix}",
                kind=TransferKind.ATTENDED,
                from_agent=from_agent,
                to_number=text(msg, f"{prefix}CallerIDNum"),
                result=text(msg, "Result"),
                joined_key=other,
            )
            for call_key, other, prefix, suffix in (
                (first, second, "TransferTarget", ""),
                (second, first, "Transferee", ":joined"),
            )
        ]

    def _fold(self, consult: str, customer: str, at: datetime, key: str) -> list[te.Fact]:
        """The consultation call becomes part of the customer's call."""
        track = self.state.calls.pop(consult, None)
        self.state.merged_into[consult] = customer
        if track is not None:
            for uid in list(track.legs):
                leg = self.state.legs.get(uid)
                if leg is not None:
                    self.state.attach(leg, customer)
        return [te.CallMerged(call_key=consult, at=at, dedup_key=f"{key}:merge", into_key=customer)]
