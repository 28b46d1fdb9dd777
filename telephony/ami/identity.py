"""Call identity: which call a leg belongs to when Linkedids are rewritten, a pickup joins
a ringing call, or a Local channel starts one (docs/ami.md §7), and which call a failed
Originate's response is about. The Translator's rules for them."""

from __future__ import annotations

from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection
from telephony.ami.dialing import external_number
from telephony.ami.fields import Fields, device_of, text
from telephony.ami.queueing import QueueRules
from telephony.ami.tracker import CallTrack, Leg


class IdentityRules(QueueRules):
    def _follow_linkedid(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        """A leg whose Linkedid changed moved to another call (docs/ami.md §7.2)."""
        out: list[te.Fact] = []
        for prefix in ("", "Dest"):
            leg = self._leg(msg, prefix)
            linkedid = text(msg, f"{prefix}Linkedid")
            if leg is None or not linkedid or leg.pinned:
                continue
            target = self.state.resolve(linkedid)
            if target != leg.call_key:
                out += self._move_leg(leg, target, at, key)
        return out

    def _move_leg(self, leg: Leg, target: str, at: datetime, key: str) -> list[te.Fact]:
        old = leg.call_key
        self.state.attach(leg, target)
        old_track = self.state.calls.get(old)
        if old_track is None or old_track.legs:
            return []
        # Everything of the old call now lives in the new one: one interaction.
        del self.state.calls[old]
        self.state.merged_into[old] = target
        return [te.CallMerged(call_key=old, at=at, dedup_key=f"{key}:merge:{old}", into_key=target)]

    def _pickup(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        """Call pickup: the picking phone answers the ringing call and joins it (its own
        short call, the pickup code, folds in)."""
        picker, target = self._leg(msg), self._leg(msg, "Target")
        track = self.state.calls.get(target.call_key) if target is not None else None
        if picker is None or target is None or track is None:
            return []
        target.answered = True  # the ringing leg's DialEnd ANSWER is this pickup
        out = self._move_leg(picker, track.key, at, key) if picker.call_key != track.key else []
        if track.answered:
            return out
        track.answered = True
        return [
            *out,
            te.CallAnswered(
                call_key=track.key,
                at=picker.up_at or at,
                dedup_key=key,
                agent=picker.device if picker.is_agent else "",
                leg_id=picker.uniqueid,
            ),
        ]

    def _local_origin(
        self, uniqueid: str, channel: str, device: str, at: datetime, key: str
    ) -> list[te.Fact]:
        """A Local channel that starts a call: an Originate to ``Local/<ext>@<context>``
        (FreePBX click-to-dial). Its ``;2`` half rings the agent's phone, then the ``;1``
        half dials the customer; the call is theirs, the Local pair is plumbing."""
        leg = Leg(
            uniqueid=uniqueid,
            channel=channel,
            device=device,
            call_key="",
            is_agent=False,
            originated=True,
            local=True,
        )
        self.state.legs[uniqueid] = leg
        track = self.state.track(uniqueid, first_leg=uniqueid)
        self.state.attach(leg, uniqueid)
        track.originated = track.internal_origin = True
        track.origin_device = device
        track.direction = CallDirection.INTERNAL
        return [
            te.CallStarted(
                call_key=track.key, at=at, dedup_key=key, direction=CallDirection.INTERNAL
            )
        ]

    def _originate_unanswered(self, track: CallTrack) -> None:
        """``track`` ended before the agent's phone took its click-to-dial. When nothing
        named the number it was to dial (someone else's Originate), the OriginateResponse
        that follows will."""
        if track.originated and not track.originator_answered and not track.dialled:
            self.state.unanswered_originates[track.origin_device] = (track.key, track.agent)

    def _originate_response(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        """A click-to-dial whose agent never answered: the number it was to dial, and so
        the call's direction (docs/telephony.md, "Which leg answers").

        Asterisk sends the failure after the Hangup, naming the device it was asked to
        ring (``Channel: PJSIP/1003``) and, unless the Originate gave a ChannelId, no
        Uniqueid."""
        waiting = self.state.unanswered_originates
        if not waiting or text(msg, "Response") != "Failure":
            return []
        found = waiting.pop(device_of(text(msg, "Channel")), None)
        uniqueid, number = text(msg, "Uniqueid"), text(msg, "Exten")
        if found is None or not number or number == "s":
            return []
        call_key, agent = found
        if uniqueid not in ("", "<unknown>") and self.state.resolve(uniqueid) != call_key:
            return []  # another attempt's response
        outbound = external_number(number)
        return [
            te.CallStarted(
                call_key=call_key,
                at=at,
                dedup_key=key,
                direction=CallDirection.OUTBOUND if outbound else CallDirection.INTERNAL,
                callee_number=number,
                agent=agent,
            )
        ]
