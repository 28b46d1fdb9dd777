"""A call's CEL and queue_log rows in, the facts the AMI path gives for it out.

One call is the rows of one Linkedid. The facts are those of contactcenter/facts.py, as
the AMI translator makes them (docs/ami.md), from Asterisk's own records of the same
moments:

| CEL / queue_log | AMI it stands for | fact |
|---|---|---|
| CHAN_START of the first channel | Newchannel | CallStarted |
| queue_log ENTERQUEUE | QueueCallerJoin | QueueJoined |
| queue_log CONNECT (else ANSWER of the other party) | AgentConnect (Newstate Up) | CallAnswered |
| BLINDTRANSFER / ATTENDEDTRANSFER | BlindTransfer / AttendedTransfer | CallTransferred |
| ANSWER of a channel after a blind transfer | DialEnd ANSWER | TransferAnswered |
| no such ANSWER before the call's end | DialEnd NOANSWER, BUSY ... | TransferFailed |
| ATTENDEDTRANSFER, its target answered before | AttendedTransfer, target up | TransferAnswered |
| queue_log COMPLETECALLER / COMPLETEAGENT / *TRANSFER | AgentComplete | AgentCompleted |
| queue_log ABANDON / EXITWITHTIMEOUT | QueueCallerAbandon | QueueAbandoned |
| HANGUP of the last channel (LINKEDID_END after it) | Hangup | CallEnded |
| a channel moving to an older Linkedid | Linkedid rewrite | CallMerged |

A fact's dedup key is the one the AMI event of the same moment gets (event, Uniqueid,
Dest Uniqueid, PBX time to the microsecond): where the PBX stamped both records alike,
the fact is stored once whichever source told it first. CEL has no hold events: a call
rebuilt from CEL alone has no hold time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection, HangupParty, TransferKind

# A DialEnd's status and the HANGUP's dialstatus are the same words: the AMI path's
# tables serve both (a call's outcome; a blind transfer's target not reached).
from telephony.ami.dialing import _RING_OUTCOMES, external_number
from telephony.ami.fields import device_of
from telephony.ami.translator import _DIAL_END_OUTCOMES as _DIAL_OUTCOMES
from telephony.cel.rows import CelRow, History, QueueLogRow

# Q.850 causes as Asterisk spells them (Cause-txt).
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    127: "Interworking, unspecified",
}
_COMPLETE_REASONS = {
    "COMPLETECALLER": HangupParty.CALLER,
    "COMPLETEAGENT": HangupParty.AGENT,
    "TRANSFER": HangupParty.TRANSFER,
    "BLINDTRANSFER": HangupParty.TRANSFER,
    "ATTENDEDTRANSFER": HangupParty.TRANSFER,
}
# Where each queue_log completion keeps the wait and the talk time (app_queue).
_COMPLETE_TIMES = {
    "COMPLETECALLER": (0, 1),
    "COMPLETEAGENT": (0, 1),
    "TRANSFER": (2, 3),
    "BLINDTRANSFER": (2, 3),
    "ATTENDEDTRANSFER": (2, 3),
}


def pbx_stamp(at: datetime) -> str:
    """The PBX's ``Timestamp`` text for ``at`` (epoch seconds, six decimals), exactly."""
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return f"{delta.days * 86400 + delta.seconds}.{delta.microseconds:06d}"


def _key(event: str, uniqueid: str, dest: str, at: datetime) -> str:
    return f"ami:{event}:{uniqueid}:{dest}:{pbx_stamp(at)}"


def _hangup_cause(row: CelRow) -> int | None:
    raw = row.extra.get("hangupcause")
    try:
        cause = int(str(raw))
    except (TypeError, ValueError):
        return None
    return cause if 0 <= cause < 2**31 else None


class CallRows:
    """The rows of one call (Linkedid) and what they say."""

    def __init__(self, linkedid: str, history: History, is_agent: Callable[[str], bool]) -> None:
        self.linkedid = linkedid
        self.is_agent = is_agent
        # Each channel belongs to the call of its last row (a transfer moves it).
        last: dict[str, str] = {}
        for row in history.cel:
            last[row.uniqueid] = row.linkedid
        self.rows = [
            r
            for r in history.cel
            if r.linkedid == linkedid and not device_of(r.channame).startswith("Local/")
        ]
        self.channels = {r.uniqueid for r in self.rows if last.get(r.uniqueid) == linkedid}
        # Channels that began here and ended in another call: this one was folded in.
        self.moved_to = {
            last[r.uniqueid]
            for r in self.rows
            if r.eventtype == "CHAN_START" and last.get(r.uniqueid) not in (linkedid, None)
        }
        self.names = {r.uniqueid: r.channame for r in history.cel if r.eventtype == "CHAN_START"}
        # Every row of each channel, whichever call it was in (a transfer target's rows
        # are the consultation's until the transfer).
        self.by_channel: dict[str, list[CelRow]] = {}
        for row in history.cel:
            self.by_channel.setdefault(row.uniqueid, []).append(row)
        uniqueids = {r.uniqueid for r in self.rows}
        self.queue_log = [q for q in history.queue_log if q.callid in uniqueids]

    def device(self, uniqueid: str) -> str:
        return device_of(self.names.get(uniqueid, ""))

    def agent(self, uniqueid: str) -> str:
        device = self.device(uniqueid)
        return device if device and self.is_agent(device) else ""

    @property
    def first(self) -> CelRow | None:
        starts = [r for r in self.rows if r.eventtype == "CHAN_START"]
        own = [r for r in starts if r.uniqueid == self.linkedid]
        found = own or starts
        return found[0] if found else None

    def hangups(self) -> list[CelRow]:
        return [r for r in self.rows if r.eventtype == "HANGUP" and r.uniqueid in self.channels]

    @property
    def ended(self) -> bool:
        hung = {r.uniqueid for r in self.hangups()}
        return bool(self.channels) and self.channels <= hung


def call_facts(call: CallRows) -> list[te.CallFact]:
    """Every fact the rows of ``call`` say, in time order."""
    first = call.first
    if first is None:
        return []
    key = call.linkedid
    out: list[te.CallFact] = [_started(call, first)]
    answered = False
    queue_answered = False
    member_leg = ""
    for q in call.queue_log:
        if q.event == "ENTERQUEUE":
            out.append(
                te.QueueJoined(
                    call_key=key,
                    at=q.time,
                    dedup_key=_key("QueueCallerJoin", q.callid, "", q.time),
                    queue=q.queuename,
                    position=q.number(2),
                )
            )
        elif q.event == "CONNECT":
            member_leg = q.data[1] if len(q.data) > 1 else ""
            answered = queue_answered = True
            out.append(
                te.CallAnswered(
                    call_key=key,
                    at=q.time,
                    dedup_key=_key("AgentConnect", q.callid, member_leg, q.time),
                    agent=call.agent(member_leg) or q.agent,
                    queue=q.queuename,
                    wait_seconds=q.number(0),
                    ring_seconds=q.number(2),
                    leg_id=member_leg,
                )
            )
        elif q.event in _COMPLETE_REASONS:
            out.append(_completed(call, q, member_leg))
        elif q.event in ("ABANDON", "EXITWITHTIMEOUT"):
            out.append(
                te.QueueAbandoned(
                    call_key=key,
                    at=q.time,
                    dedup_key=_key("QueueCallerAbandon", q.callid, "", q.time),
                    queue=q.queuename,
                    wait_seconds=q.number(2),
                    position=q.number(0),
                    original_position=q.number(1),
                )
            )
    first_is_agent = bool(call.agent(first.uniqueid))
    pending_transfer = ""
    for row in call.rows:
        if row.eventtype == "ANSWER" and row.uniqueid != first.uniqueid:
            agent = call.agent(row.uniqueid)
            if pending_transfer:
                out.append(
                    te.TransferAnswered(
                        call_key=key,
                        at=row.eventtime,
                        dedup_key=_key("DialEnd", "", row.uniqueid, row.eventtime),
                        transfer_key=pending_transfer,
                        to_agent=agent,
                    )
                )
                pending_transfer = ""
            elif not queue_answered and not answered and bool(agent) != first_is_agent:
                answered = True
                out.append(
                    te.CallAnswered(
                        call_key=key,
                        at=row.eventtime,
                        dedup_key=_key("Newstate", row.uniqueid, "", row.eventtime),
                        agent=agent or call.agent(first.uniqueid),
                        leg_id=row.uniqueid,
                    )
                )
        elif row.eventtype in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            fact = _transferred(call, row)
            pending_transfer = fact.transfer_key if fact.kind == TransferKind.BLIND else ""
            out.append(fact)
            if fact.kind == TransferKind.ATTENDED and _target_answered(call, row):
                # The consultation's party was up: the transfer is answered as it
                # completes (as the AMI path says it).
                out.append(
                    te.TransferAnswered(
                        call_key=key,
                        at=row.eventtime,
                        dedup_key=f"{fact.dedup_key}:answered",
                        transfer_key=fact.transfer_key,
                        to_agent=fact.to_agent,
                    )
                )
    for target in sorted(call.moved_to):
        moved = [r for r in call.rows if r.uniqueid not in call.channels]
        at = max((r.eventtime for r in moved), default=first.eventtime)
        out.append(
            te.CallMerged(
                call_key=key, at=at, dedup_key=f"cel:merge:{key}:{target}", into_key=target
            )
        )
    if call.ended and not call.moved_to:
        if pending_transfer:
            out.append(_transfer_failed(call, pending_transfer))
        out.append(_ended(call, first, answered))
    return sorted(out, key=lambda fact: fact.at)


def _transfer_failed(call: CallRows, transfer_key: str) -> te.TransferFailed:
    """A blind transfer nobody answered before the call ended: failed, as the AMI path
    says at the target's DialEnd (the transferee's dial status) or, never dialled, at the
    hangup."""
    transfer = next(r for r in call.rows if r.eventtype == "BLINDTRANSFER" and _is(r, transfer_key))
    dialled = any(
        r.eventtype == "CHAN_START" and r.eventtime > transfer.eventtime for r in call.rows
    )
    last = call.hangups()[-1]
    status = str(last.extra.get("dialstatus", ""))
    reason = _RING_OUTCOMES.get(status, "failed") if dialled else "not_dialled"
    return te.TransferFailed(
        call_key=call.linkedid,
        at=last.eventtime,
        dedup_key=f"{_key('Hangup', last.uniqueid, '', last.eventtime)}:transfer",
        transfer_key=transfer_key,
        reason=reason,
    )


def _is(row: CelRow, transfer_key: str) -> bool:
    return transfer_key == f"blind:{row.uniqueid}:{pbx_stamp(row.eventtime)}"


def _started(call: CallRows, first: CelRow) -> te.CallStarted:
    agent = call.agent(first.uniqueid)
    exten = "" if first.exten == "s" else first.exten
    direction = CallDirection.INBOUND
    if agent:
        others = {r.uniqueid for r in call.rows} - {first.uniqueid}
        outbound = external_number(exten) or any(not call.agent(u) for u in others)
        direction = CallDirection.OUTBOUND if outbound else CallDirection.INTERNAL
        exten = first.cid_dnid or exten or _dialled_out(call, first)
    return te.CallStarted(
        call_key=call.linkedid,
        at=first.eventtime,
        dedup_key=_key("Newchannel", first.uniqueid, "", first.eventtime),
        direction=direction,
        # Bounded as the call record's columns are: a PBX's odd value loses its tail, not
        # the call.
        caller_number=first.cid_num[:64],
        caller_name=first.cid_name[:200],
        callee_number=exten[:64],
        agent=agent,
    )


def _dialled_out(call: CallRows, first: CelRow) -> str:
    """The number an agent's call reached when its own channel does not say (a click-to-
    dial starts the agent's phone at ``s``): the extension of the first other party's
    row that has one."""
    others = [r for r in call.rows if r.uniqueid != first.uniqueid and not call.agent(r.uniqueid)]
    return next((r.exten for r in others if r.exten not in ("", "s")), "")


def _completed(call: CallRows, q: QueueLogRow, member_leg: str) -> te.AgentCompleted:
    wait_at, talk_at = _COMPLETE_TIMES[q.event]
    return te.AgentCompleted(
        call_key=call.linkedid,
        at=q.time,
        dedup_key=_key("AgentComplete", q.callid, member_leg, q.time),
        agent=call.agent(member_leg) or q.agent,
        talk_seconds=q.number(talk_at),
        wait_seconds=q.number(wait_at),
        reason=_COMPLETE_REASONS[q.event],
        queue=q.queuename,
    )


def _transferred(call: CallRows, row: CelRow) -> te.CallTransferred:
    stamp = pbx_stamp(row.eventtime)
    if row.eventtype == "BLINDTRANSFER":
        target, context = str(row.extra.get("extension", "")), str(row.extra.get("context", ""))
        return te.CallTransferred(
            call_key=call.linkedid,
            at=row.eventtime,
            dedup_key=_key("BlindTransfer", "", "", row.eventtime),
            transfer_key=f"blind:{row.uniqueid}:{stamp}",
            kind=TransferKind.BLIND,
            from_agent=call.agent(row.uniqueid),
            to_number=f"{target}@{context}" if context else target,
            result="Success",
            # Taken by the PBX; the target's answer (or none) tells the rest.
            awaiting_target=True,
        )
    target_leg = str(row.extra.get("transfer_target_channel_uniqueid", ""))
    # The target's number as its channel showed it then (AMI's TransferTargetCallerIDNum),
    # else its device.
    seen = [r for r in call.by_channel.get(target_leg, []) if r.eventtime <= row.eventtime]
    number = next((r.cid_num for r in reversed(seen) if r.cid_num), "") or call.device(target_leg)
    return te.CallTransferred(
        call_key=call.linkedid,
        at=row.eventtime,
        dedup_key=_key("AttendedTransfer", "", "", row.eventtime),
        transfer_key=f"attended:{row.uniqueid}:{stamp}",
        kind=TransferKind.ATTENDED,
        from_agent=call.agent(row.uniqueid),
        to_agent=call.agent(target_leg),
        to_number=number[:128],
        result="Success",
    )


def _target_answered(call: CallRows, row: CelRow) -> bool:
    """Whether the attended transfer's target had answered when it completed."""
    target_leg = str(row.extra.get("transfer_target_channel_uniqueid", ""))
    return any(
        r.eventtype == "ANSWER" and r.eventtime <= row.eventtime
        for r in call.by_channel.get(target_leg, [])
    )


def _ended(call: CallRows, first: CelRow, answered: bool) -> te.CallEnded:
    hangups = call.hangups()
    last = hangups[-1]
    cause = _hangup_cause(last)
    outcome: te.EndOutcome | None = None
    if not answered:
        own = [r for r in hangups if r.uniqueid == first.uniqueid]
        status = str(own[0].extra.get("dialstatus", "")) if own else ""
        outcome = "failed" if call.agent(first.uniqueid) else _DIAL_OUTCOMES.get(status)
    return te.CallEnded(
        call_key=call.linkedid,
        at=last.eventtime,
        dedup_key=_key("Hangup", last.uniqueid, "", last.eventtime),
        cause=cause,
        cause_text=CAUSE_TEXT.get(cause, "") if cause is not None else "",
        outcome=outcome,
        hangup_by=_hangup_by(call, first),
    )


def _hangup_by(call: CallRows, first: CelRow) -> HangupParty | None:
    for q in call.queue_log:
        reason = _COMPLETE_REASONS.get(q.event)
        if reason in (HangupParty.CALLER, HangupParty.AGENT):
            return reason
    # The last party's row names who hung up; a channel that left earlier (a transferer,
    # a member whose ringing was cancelled) has none.
    sources = (str(r.extra.get("hangupsource", "")) for r in reversed(call.hangups()))
    source = next((s for s in sources if s), "")
    if not source:
        return None
    if device_of(source) == call.device(first.uniqueid):
        return HangupParty.AGENT if call.agent(first.uniqueid) else HangupParty.CALLER
    return HangupParty.AGENT if call.is_agent(device_of(source)) else HangupParty.CALLER


def calls_of(history: History, is_agent: Callable[[str], bool]) -> dict[str, CallRows]:
    """The calls in ``history``, by Linkedid."""
    # A Linkedid longer than a call's external id is not one Asterisk writes.
    linkedids: Sequence[str] = sorted(
        {r.linkedid for r in history.cel if 0 < len(r.linkedid) <= 128}
    )
    return {key: CallRows(key, history, is_agent) for key in linkedids}
