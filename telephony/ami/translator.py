"""AMI events in, telephony events out (contactcenter.facts).

One Translator per AMI connection, fed every event in arrival order. It drops the
noise (VarSet other than CC_DISPOSITION, Newexten, RTCP, MusicOnHold, Cdr,
DeviceStateChange...), keeps track of live legs by Uniqueid and of calls by Linkedid
(following Linkedid rewrites), and says what each meaningful event means for a call
or an agent. Rules and event orders are those of docs/ami.md; the
sections are cited where a rule is not obvious.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection, HangupParty
from telephony.ami import members
from telephony.ami.callback_request import EVENT as CALLBACK_EVENT
from telephony.ami.callback_request import callback_requested
from telephony.ami.dialing import external_number
from telephony.ami.fields import Fields, device_of, integer, text, timestamp
from telephony.ami.identity import IdentityRules
from telephony.ami.parties import Parties
from telephony.ami.recording import EVENTS as RECORDING_EVENTS
from telephony.ami.recording import RecordingRules, is_recording_variable
from telephony.ami.spying import EVENTS as SPY_EVENTS
from telephony.ami.spying import SpyRules
from telephony.ami.tracker import CallTrack, Leg, Tracker
from telephony.ami.voicemail import EVENTS as VOICEMAIL_EVENTS
from telephony.ami.voicemail import VoicemailRules, is_voicemail_variable

logger = logging.getLogger(__name__)

_DIAL_END_OUTCOMES: dict[str, te.EndOutcome] = {
    "NOANSWER": "no_answer",
    "BUSY": "busy",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "CANCEL": "canceled",
    "DONTCALL": "failed",
    "INVALIDARGS": "failed",
}
# The channel variable a dialplan sets to the code of the call's disposition, e.g.
# Set(CC_DISPOSITION=refund) in a post-call menu (VarSet; inherited forms "__CC_..." too).
DISPOSITION_VARIABLE = "CC_DISPOSITION"

_CAUSE_REJECTED = 21  # Q.850 "Call rejected": SIP 603 Decline
_CAUSE_RING_OUTCOMES: dict[int, te.RingOutcome] = {
    17: "busy",
    18: "no_answer",
    19: "no_answer",
    _CAUSE_REJECTED: "rejected",
}


def _placed(event: te.Fact) -> bool:
    if isinstance(event, te.CallFactBase):
        return bool(event.call_key)
    if isinstance(event, te.ResyncCompleted):
        return True
    return bool(event.agent and event.queue)


def _is_disposition(msg: Fields) -> bool:
    return text(msg, "Variable").lstrip("_").upper() == DISPOSITION_VARIABLE


class Translator(IdentityRules, RecordingRules, SpyRules, VoicemailRules):
    # The events worth receiving at all; everything else is noise for us.
    EVENTS: frozenset[str] = (
        frozenset(
            {
                "FullyBooted",
                "Newchannel",
                "Newstate",
                "QueueCallerJoin",
                "QueueCallerLeave",
                "QueueCallerAbandon",
                "AgentCalled",
                "AgentRingNoAnswer",
                "AgentConnect",
                "AgentComplete",
                "AgentDump",
                "DialBegin",
                "DialEnd",
                "Hold",
                "Unhold",
                "BlindTransfer",
                "AttendedTransfer",
                "HangupRequest",
                "Hangup",
                "QueueMemberStatus",
                "QueueMemberPause",
                "QueueMemberAdded",
                "QueueMemberRemoved",
                "OriginateResponse",
                "Pickup",
                "VarSet",  # only CC_DISPOSITION and MIXMONITOR_FILENAME are kept (see translate)
                CALLBACK_EVENT,  # only UserEvent: CallbackRequest (callback_request.py)
            }
        )
        | RECORDING_EVENTS
        | SPY_EVENTS
        | VOICEMAIL_EVENTS
    )

    """Stateful AMI → telephony-event translation for one connection.

    ``is_agent(device)`` says whether a device ("PJSIP/1001") is one of the organization's
    agents; ``parties`` which other channels are ours and which are trunks (the call's
    direction); ``clock`` gives the time for events that carry no Timestamp.
    """

    def __init__(
        self,
        *,
        is_agent: Callable[[str], bool],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parties: Parties | None = None,
    ) -> None:
        self.is_agent = is_agent
        self.parties = parties or Parties()
        self.clock = clock
        self.state = Tracker()
        self.last_event_at: datetime | None = None
        self._handlers: dict[str, Callable[[Fields, datetime, str], list[te.Fact]]] = {
            "Newchannel": self._newchannel,
            "Newstate": self._newstate,
            "QueueCallerJoin": self._queue_join,
            "QueueCallerLeave": self._queue_leave,
            "QueueCallerAbandon": self._queue_abandon,
            "AgentCalled": self._agent_called,
            "AgentRingNoAnswer": self._agent_rna,
            "AgentConnect": self._agent_connect,
            "AgentComplete": self._agent_complete,
            "AgentDump": self._agent_dump,
            "DialBegin": self._dial_begin,
            "DialEnd": self._dial_end,
            "Hold": self._hold,
            "Unhold": self._unhold,
            "BlindTransfer": self._blind_transfer,
            "AttendedTransfer": self._attended_transfer,
            "HangupRequest": self._hangup_request,
            "Hangup": self._hangup,
            "Pickup": self._pickup,
            "OriginateResponse": self._originate_response,
            "QueueMemberStatus": lambda msg, at, key: [members.member_state(msg, at, is_agent)],
            "QueueMemberPause": lambda msg, at, key: [members.member_pause(msg, at, is_agent)],
            "QueueMemberAdded": lambda msg, at, key: [members.member_added(msg, at, is_agent)],
            "QueueMemberRemoved": lambda msg, at, key: [members.member_removed(msg, at, is_agent)],
            "VarSet": self._varset,
            CALLBACK_EVENT: lambda msg, at, key: callback_requested(
                msg, call_key=self._key(msg), at=at, key=key
            ),
            "MixMonitorStart": self._mixmonitor_start,
            "MixMonitorMute": self._mixmonitor_mute,
            "MixMonitorStop": self._mixmonitor_stop,
            "ChanSpyStart": self._chanspy_start,
            "ChanSpyStop": self._chanspy_stop,
            "MessageWaiting": self._message_waiting,
        }

    def expect_originate(self, *, device: str, number: str) -> None:
        """We asked the PBX to ring ``device`` and then dial ``number`` (click-to-call).

        The originated channel does not name the number until it dials it, and not at all
        when the agent never answers; this is how a failed attempt still shows its target.
        """
        self.state.originates.setdefault(device, deque()).append(number)

    def forget_originate(self, *, device: str) -> None:
        """The PBX refused the click-to-call we announced last for ``device``."""
        waiting = self.state.originates.get(device)
        if waiting:
            waiting.pop()

    # -- entry point ---------------------------------------------------------------------

    def translate(self, msg: Fields) -> list[te.Fact]:
        """What one AMI event means; [] for noise and for events we do not use."""
        name = text(msg, "Event")
        if name == "VarSet" and not (
            _is_disposition(msg) or is_recording_variable(msg) or is_voicemail_variable(msg)
        ):
            return []  # dialplan noise: the one variable we read is cheap to tell apart
        handler = self._handlers.get(name)
        at = timestamp(msg)
        if at is not None:
            self.last_event_at = at
        if handler is None:
            return []
        stamped = at is not None
        at = at or self.clock()
        key = self._dedup_key(msg, name)
        events = self._follow_linkedid(msg, at, key) + handler(msg, at, key)
        # An event that names no call (or no agent) cannot be placed: say so, keep none.
        kept = [e for e in events if _placed(e)]
        if len(kept) != len(events):
            logger.warning("AMI %s without the ids to place it; skipped", name)
        if not stamped:
            # No Timestamp (timestampevents off): the time is when we read it.
            kept = [
                dataclasses.replace(e, receipt_time=True) if isinstance(e, te.CallFactBase) else e
                for e in kept
            ]
        return kept

    @staticmethod
    def _dedup_key(msg: Fields, name: str) -> str:
        stamp = text(msg, "Timestamp")
        if stamp:
            return f"ami:{name}:{text(msg, 'Uniqueid')}:{text(msg, 'DestUniqueid')}:{stamp}"
        # Without timestampevents=yes two identical events cannot be told apart; hash them.
        body = "|".join(f"{k}={v}" for k, v in sorted(getattr(msg, "items", dict)()))
        return f"ami:{name}:{hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()}"

    # -- channels ------------------------------------------------------------------------

    def _varset(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        if is_recording_variable(msg):
            return self._recording_named(msg, at, key)
        if is_voicemail_variable(msg):
            return self._voicemail_variable(msg, at, key)
        code = text(msg, "Value").strip()
        if not code:
            return []
        # The code is part of the key: one dialplan step may set it twice, differently.
        return [
            te.DispositionReported(
                call_key=self._key(msg), at=at, dedup_key=f"{key}:{code}", code=code
            )
        ]

    def _newchannel(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        if self._spy_leg_created(msg):
            return []  # a supervisor's monitoring leg (spying.py): no call of its own
        uniqueid, linkedid = text(msg, "Uniqueid"), text(msg, "Linkedid") or text(msg, "Uniqueid")
        if not uniqueid or uniqueid in self.state.legs:
            return []
        channel = text(msg, "Channel")
        device = device_of(channel)
        if device.startswith("Local/"):
            if uniqueid == linkedid and channel.endswith(";1"):
                return self._local_origin(uniqueid, channel, device, at, key)
            return []  # helper channels: the real legs carry the call (docs/ami.md §6.6)
        if self.state.unanswered_originates:
            # A new channel on the device: an older failed click-to-dial's response is past.
            self.state.unanswered_originates.pop(device, None)
        is_agent = self.is_agent(device)
        leg = Leg(
            uniqueid=uniqueid,
            channel=channel,
            device=device,
            call_key="",
            is_agent=is_agent,
            originated=text(msg, "ChannelState") == "0",
            internal=self.parties.is_internal(device, text(msg, "Context"), is_agent=is_agent),
        )
        self.state.legs[uniqueid] = leg
        if uniqueid != linkedid:
            self.state.attach(leg, linkedid)
            return []
        track = self.state.track(linkedid, first_leg=uniqueid)
        self.state.attach(leg, linkedid)
        exten = text(msg, "Exten")
        exten = "" if exten == "s" else exten
        if leg.internal:
            # Placed on our side: outbound once it dials out, internal until then.
            track.internal_origin = True
            ours = False
            if leg.is_agent:
                track.agent = device
                waiting = self.state.originates.get(device)
                if leg.originated and waiting:
                    exten, ours = waiting.popleft(), True
            if ours:
                # Our click-to-call rings this phone first; its answer is not the call's
                # (docs/telephony.md, "Which leg answers").
                track.originated = True
                track.originator_leg = uniqueid
            outbound = ours or external_number(exten)
            track.direction = CallDirection.OUTBOUND if outbound else CallDirection.INTERNAL
        track.dialled = exten
        return [
            te.CallStarted(
                call_key=track.key,
                at=at,
                dedup_key=key,
                direction=CallDirection(track.direction),
                caller_number=text(msg, "CallerIDNum"),
                caller_name=text(msg, "CallerIDName"),
                callee_number=exten,
                agent=track.agent,
            )
        ]

    def _newstate(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        leg = self._leg(msg)
        if leg is None or text(msg, "ChannelState") != "6":
            return []
        leg.up = True
        leg.up_at = at
        pending = self.state.transfer_targets.pop(leg.uniqueid, None)
        if pending is not None:
            call_key, transfer_key = pending
            return [
                te.TransferAnswered(
                    call_key=call_key,
                    at=at,
                    dedup_key=key,
                    transfer_key=transfer_key,
                    to_agent=leg.device if leg.is_agent else "",
                )
            ]
        return []

    def _hangup_request(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        leg = self._leg(msg)
        if leg is None:
            return []
        track = self.state.calls.get(leg.call_key)
        if track is None:
            return []
        if leg.local or leg.transferred:
            return []  # plumbing, or a transferer leaving its transferred call
        # Who hung up: a party on the call, not a ringing attempt that was cut off. The
        # caller is the call's first party or someone outside; agents and extensions
        # answering for us are the agent side.
        if leg.uniqueid == track.first_leg or leg.up:
            first = leg.uniqueid == track.first_leg
            caller = not leg.is_agent and (first or not leg.internal)
            party = HangupParty.CALLER if caller else HangupParty.AGENT
            track.hangup_party = party
            for other in track.joined_with:
                # Two joined customers: one hanging up ends the other's conversation too.
                joined = self.state.calls.get(other)
                if joined is not None:
                    joined.hangup_party = party
        return []

    def _hangup(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        if self._is_spy_leg(msg):
            return self._spy_hangup(msg, at, key)
        leg = self.state.legs.pop(text(msg, "Uniqueid"), None)
        if leg is None:
            return []
        out: list[te.Fact] = []
        cause = integer(msg, "Cause")
        track = self.state.calls.get(leg.call_key)
        if leg.offered_to and not leg.offer_closed and not leg.answered:
            # An attempt that ended with no DialEnd (Originate timeout, docs/ami.md §6.4).
            outcome = _CAUSE_RING_OUTCOMES.get(cause or 0, "canceled")
            out.append(
                te.AgentOfferEnded(
                    call_key=leg.call_key,
                    at=at,
                    dedup_key=f"{key}:offer",
                    agent=leg.offered_to,
                    leg_id=leg.uniqueid,
                    outcome=outcome,
                )
            )
        self.state.transfer_targets.pop(leg.uniqueid, None)
        if leg.failed_transfer is not None and cause == _CAUSE_REJECTED:
            # The transfer target that did not answer declined it (a 603 from the phone).
            call_key, transfer_key = leg.failed_transfer
            out.append(
                te.TransferFailed(
                    call_key=call_key,
                    at=at,
                    dedup_key=f"{key}:rejected",
                    transfer_key=transfer_key,
                    reason="rejected",
                )
            )
        if track is None:
            return out
        track.legs.discard(leg.uniqueid)
        if track.legs:
            return out
        del self.state.calls[track.key]
        self._originate_unanswered(track)
        # A blind transfer whose target was never dialled (no such extension, the caller
        # gone first) reached no one.
        out += self._transfer_failed(track, "not_dialled", at, key)
        out.append(
            te.CallEnded(
                call_key=track.key,
                at=at,
                dedup_key=key,
                cause=cause,
                cause_text=text(msg, "Cause-txt"),
                outcome=self._end_outcome(track, leg),
                hangup_by=HangupParty(track.hangup_party) if track.hangup_party else None,
            )
        )
        return out

    @staticmethod
    def _end_outcome(track: CallTrack, last: Leg) -> te.EndOutcome | None:
        if track.answered:
            return None
        if track.originated and not track.originator_answered:
            # The agent's own phone never took the click-to-call: the attempt failed.
            return "failed"
        # The far party's last answer to a dial: busy, no answer, unreachable.
        return _DIAL_END_OUTCOMES.get(track.last_dial_status)
