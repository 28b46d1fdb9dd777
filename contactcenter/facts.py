"""Facts: what the phone world said, source-agnostic; what the domain accepts from it.

The AMI translator and the Twilio webhooks turn their raw input into these frozen
values at the edge; nothing from AMI frames or Twilio forms goes further. (Facts, not
events: "events" are AMI's own messages, and the call's stored history is its timeline.)

Every fact names the call it belongs to by ``call_key``, the PBX's correlation id
(Asterisk ``Linkedid``, Twilio parent ``CallSid``), carries the time it happened
(aware UTC) and a ``dedup_key`` unique to the source event: applying the same fact
twice leaves the records as once. Agents are named by their PBX interface
(``PJSIP/1001``) or, for Twilio, by their client identity; queues by the PBX name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contactcenter.enums import CallDirection, CallSource, HangupParty, TransferKind

RingOutcome = Literal["no_answer", "canceled", "busy", "rejected", "failed"]
EndOutcome = Literal["completed", "no_answer", "busy", "failed", "canceled"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CallFactBase:
    call_key: str
    at: datetime
    dedup_key: str
    source: CallSource = CallSource.ASTERISK
    # ``at`` is when the fact was read, not when it happened: the source sent no time
    # (AMI without timestampevents). Durations then come from the PBX's own figures.
    receipt_time: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CallStarted(CallFactBase):
    """The customer's (first) leg exists."""

    direction: CallDirection
    caller_number: str = ""
    caller_name: str = ""
    callee_number: str = ""
    agent: str = ""  # for outbound calls placed by an agent


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueJoined(CallFactBase):
    queue: str
    position: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueLeft(CallFactBase):
    """The caller left the waiting list (to an agent, or unserved): timeline only."""

    queue: str
    count: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallMerged(CallFactBase):
    """``call_key`` (say, an attended transfer's consultation) became part of ``into_key``:
    its timeline and transfers move there and it stops being a call of its own."""

    into_key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentOffered(CallFactBase):
    """An agent's phone rings for this call (a queue attempt or a direct dial)."""

    agent: str
    leg_id: str
    queue: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentOfferEnded(CallFactBase):
    """An attempt that did not connect. Never downgrades an answered call."""

    agent: str
    leg_id: str
    outcome: RingOutcome
    ring_ms: int | None = None
    queue: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAnswered(CallFactBase):
    """The customer is connected to a party: an agent (``agent``) or, outbound, the callee."""

    agent: str = ""
    queue: str = ""
    wait_seconds: int | None = None
    ring_seconds: int | None = None
    leg_id: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class OriginatorConnected(CallFactBase):
    """A click-to-dial's first party, the agent's own phone, answered: the PBX now dials
    the customer. Not the call's answer (that is the far party's)."""

    agent: str
    leg_id: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallHeld(CallFactBase):
    by_agent: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallResumed(CallFactBase):
    by_agent: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallTransferred(CallFactBase):
    """A transfer was made. ``transfer_key`` ties later facts (target answered) to it."""

    transfer_key: str
    kind: TransferKind
    from_agent: str = ""
    to_agent: str = ""
    to_number: str = ""
    succeeded: bool = True
    result: str = ""
    # The PBX took the transfer; whether it reaches anyone is told later (TransferAnswered
    # or TransferFailed). A blind transfer's Result: Success is only that.
    awaiting_target: bool = False
    # Two calls of customers an agent joined (neither was a consultation it placed): the
    # other call, which keeps its own record.
    joined_key: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferAnswered(CallFactBase):
    transfer_key: str
    to_agent: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferFailed(CallFactBase):
    """The transfer's target was not reached (``reason``: busy, no_answer, canceled...)."""

    transfer_key: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentCompleted(CallFactBase):
    """An agent's part of the call is over (hung up or transferred away); not the call's end."""

    agent: str
    talk_seconds: int | None = None
    wait_seconds: int | None = None
    reason: HangupParty = HangupParty.CALLER
    queue: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueAbandoned(CallFactBase):
    """The caller left the queue unserved (hung up, or timed out of it)."""

    queue: str
    wait_seconds: int | None = None
    position: int | None = None
    original_position: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallEnded(CallFactBase):
    """The last leg of the call is gone."""

    cause: int | None = None
    cause_text: str = ""
    outcome: EndOutcome | None = None  # a source's own verdict, when it has one
    hangup_by: HangupParty | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DispositionReported(CallFactBase):
    """The PBX says how the call was closed: the ``code`` of one of the organization's
    dispositions (on Asterisk, the channel variable CC_DISPOSITION set by the dialplan)."""

    code: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CallbackRequested(CallFactBase):
    """A waiting caller asked to be called back instead (on Asterisk, the dialplan's
    ``UserEvent(CallbackRequest,...)``): a Callback to ``number`` keeps their place in
    ``queue``'s line (the time the call joined it). ``position``: theirs when they asked."""

    queue: str
    number: str
    position: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallObserved(CallFactBase):
    """A call found live by a resync; ``at`` is the time of the resync.

    Times the PBX did not report (answer time, join time) are unknown and the call is
    flagged so; later live events fill in what they can.
    """

    direction: CallDirection
    status: Literal["queued", "ringing", "in_progress", "on_hold"]
    started_at: datetime | None = None
    caller_number: str = ""
    caller_name: str = ""
    callee_number: str = ""
    queue: str = ""
    agent: str = ""
    wait_seconds: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ResyncCompleted:
    """After a (re)connect: every call of ``source`` still open and not in ``live_call_keys``
    ended while the bridge was away, and is closed with the gap flagged."""

    at: datetime
    live_call_keys: frozenset[str]
    connection: str
    source: CallSource = CallSource.ASTERISK


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentMemberState:
    """An agent's state in one queue as the PBX reports it (QueueMemberStatus, QueueStatus)."""

    agent: str
    queue: str
    at: datetime
    device: Literal[
        "unknown",
        "idle",
        "in_use",
        "busy",
        "invalid",
        "unavailable",
        "ringing",
        "ring_in_use",
        "on_hold",
    ]
    in_call: bool = False
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int | None = None
    logged_in: bool = True
    member_name: str = ""
    # The PBX holds the agent out of its queues after a call until then (the queue's
    # wrap-up time, where we route the calls ourselves: Twilio): an idle phone before
    # it is the agent in wrap-up, not available.
    wrap_up_until: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPauseChanged:
    agent: str
    queue: str
    at: datetime
    paused: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentMembershipChanged:
    agent: str
    queue: str
    at: datetime
    member: bool
    member_name: str = ""
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingFact(CallFactBase):
    """Something about the recording of one leg (``leg_id``: the recorded channel's id).

    Applied by contactcenter/services/recordings.py, not as a change of the call.
    """

    leg_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingStarted(RecordingFact):
    """The PBX started recording the leg (Asterisk ``MixMonitorStart``)."""

    agent: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingNamed(RecordingFact):
    """The file the PBX records the leg into (Asterisk ``MIXMONITOR_FILENAME``)."""

    filename: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingMuted(RecordingFact):
    """Recording paused (``muted``) or resumed (Asterisk ``MixMonitorMute``)."""

    muted: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingStopped(RecordingFact):
    """The PBX stopped recording the leg (Asterisk ``MixMonitorStop``; Twilio's
    ``completed`` recording status, whose file is then ready to fetch)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingFailed(RecordingFact):
    """The PBX made no usable recording of the leg (Twilio's ``absent`` or ``failed``
    recording status): there is no file to wait for."""

    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MonitorFact(CallFactBase):
    """A supervisor's monitoring of the call (Asterisk ``ChanSpy``): ``session`` is the
    monitoring leg's id, ``phone`` the supervisor's device, ``agent`` the device spied on,
    ``mode`` listen, whisper or barge as asked (blank: not ours to know).

    Applied by contactcenter/services/monitoring.py, not as a change of the call.
    """

    session: str
    phone: str
    agent: str = ""
    mode: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class MonitorStarted(MonitorFact):
    """The supervisor's phone started spying on the call (``ChanSpyStart``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MonitorStopped(MonitorFact):
    """The monitoring ended (``ChanSpyStop``, or the monitoring leg hung up)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class VoicemailLeft(CallFactBase):
    """The caller left a message at the queue's voicemail exit (Asterisk: ``MessageWaiting``
    with the caller's channel, ``VMSTATUS=SUCCESS``; Twilio: the ``<Record>``'s callbacks).

    ``leg_id`` is the caller's channel (the CallSid on Twilio): facts about one message
    meet on one row whatever their order; each fills in what it knows (a blank or
    ``None`` field says nothing). Applied by contactcenter/services/voicemails.py, not
    as a change of the call.
    """

    leg_id: str
    mailbox: str = ""
    filename: str = ""  # the file as the PBX names it (Twilio: the RecordingUrl)
    recording_sid: str = ""
    duration_seconds: int | None = None
    transcription: str | None = None
    transcription_status: str = ""
    failed: str = ""  # why there is no audio to fetch (Twilio's absent/failed status)


CallFact = (
    CallStarted
    | QueueLeft
    | CallMerged
    | QueueJoined
    | AgentOffered
    | AgentOfferEnded
    | CallAnswered
    | CallHeld
    | CallResumed
    | CallTransferred
    | TransferAnswered
    | TransferFailed
    | OriginatorConnected
    | AgentCompleted
    | QueueAbandoned
    | CallEnded
    | CallObserved
    | DispositionReported
    | CallbackRequested
    | RecordingStarted
    | RecordingNamed
    | RecordingMuted
    | RecordingStopped
    | RecordingFailed
    | MonitorStarted
    | MonitorStopped
    | VoicemailLeft
)
# The facts about a call's transfers (a CallTransfer row each, found by transfer_key).
TransferFact = CallTransferred | TransferAnswered | TransferFailed
AgentFact = AgentMemberState | AgentPauseChanged | AgentMembershipChanged
Fact = CallFact | AgentFact | ResyncCompleted
