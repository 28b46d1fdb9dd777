"""How each call fact changes a call (in memory; apply.py loads and saves in bulk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contactcenter import facts as te
from contactcenter.enums import CallDirection, CallEventType, HangupParty, TransferStatus
from contactcenter.models import Agent, Call, CallQueue, CallTransfer
from contactcenter.models.calls import WAITING_IN_AT_FLAG, WAITING_IN_FLAG
from contactcenter.services.telephony.derive import (
    ANSWERED_UNKNOWN,
    RECEIPT_TIMES,
    TALK_BY_PBX,
    derive_status,
    finish_durations,
    whole_seconds,
)

STARTED_UNKNOWN = "started_at_unknown"
ENDED_WHILE_AWAY = "ended_while_disconnected"
ANSWERED_DERIVED = "answered_at_derived"
DERIVED_TALK = "talk_seconds_reported"
WAIT_REPORTED = "wait_seconds_reported"
# A hold still open when the call was closed without its hangup: when it began, and the
# seconds the close counted of it (to the close's moment). A real end told later (the
# PBX's logs, a replayed stream) counts it to that end instead.
HOLD_AT_CLOSE = "hold_open_at_close"
JOINED_WITH = "joined_with"


def _report_wait(call: Call, seconds: int) -> None:
    """The PBX counted the wait itself (app_queue's HoldTime): that figure stands."""
    call.wait_seconds = seconds
    call.flags[WAIT_REPORTED] = True


def _derive_wait(call: Call) -> None:
    """An inbound caller's wait for someone, when no source reported it: from joining
    the queue (or calling) to the answer, or to giving up."""
    if call.flags.get(WAIT_REPORTED) or call.direction != CallDirection.INBOUND:
        return
    until = call.answered_at or call.abandoned_at
    if until is not None:
        call.wait_seconds = whole_seconds(call.queued_at or call.started_at, until)


@dataclass
class Lookups:
    """Agents and queues of the organization, by PBX name, resolved once per batch."""

    agents: dict[str, Agent]
    queues: dict[str, CallQueue]

    def agent(self, name: str) -> Agent | None:
        return self.agents.get(name) if name else None

    def queue(self, name: str) -> CallQueue | None:
        return self.queues.get(name) if name else None


@dataclass
class Timeline:
    """What one fact adds to the call's timeline.

    A timeline entry is normally keyed by its fact's dedup key; one with its own
    ``dedup_key`` is a single entry per call, rewritten by every fact that restates it.
    """

    type: str
    agent: Agent | None = None
    details: dict[str, Any] = field(default_factory=dict)
    dedup_key: str = ""
    occurred_at: datetime | None = None


def new_call(fact: te.CallFactBase, organization_id: int, connection_key: str) -> Call:
    """A call first seen through ``fact``; a CallStarted, if it comes later, fills it in."""
    started = fact.started_at if isinstance(fact, te.CallObserved) and fact.started_at else None
    call = Call(
        organization_id=organization_id,
        source=fact.source,
        external_id=fact.call_key,
        connection_key=connection_key,
        direction=getattr(fact, "direction", CallDirection.INBOUND),
        started_at=started or fact.at,
        flags={},
    )
    if not isinstance(fact, te.CallStarted) and started is None:
        call.flags[STARTED_UNKNOWN] = True
    return call


def _started(call: Call, fact: te.CallStarted, lk: Lookups) -> Timeline:
    first = bool(call.flags.pop(STARTED_UNKNOWN, False))
    if first or fact.at < call.started_at:
        call.started_at = fact.at
    # A call placed on our side becomes outbound when it dials out; a restated start (a
    # replay, a source restating it) never turns it back to internal.
    if first or not (
        call.direction == CallDirection.OUTBOUND and fact.direction == CallDirection.INTERNAL
    ):
        call.direction = fact.direction
    call.caller_number = call.caller_number or fact.caller_number
    call.caller_name = call.caller_name or fact.caller_name
    call.callee_number = call.callee_number or fact.callee_number
    if call.agent_id is None:
        call.agent = lk.agent(fact.agent)
    # Sources may restate a call's start (Twilio, with every callback of a call we
    # placed): the call has one "created" entry, kept at the earliest start.
    return Timeline(
        CallEventType.CREATED,
        lk.agent(fact.agent),
        {"direction": call.direction, "from": call.caller_number, "to": call.callee_number},
        dedup_key=f"{call.source}:{call.external_id}:created",
        occurred_at=call.started_at,
    )


def _queued(call: Call, fact: te.QueueJoined, lk: Lookups) -> Timeline:
    queue = lk.queue(fact.queue)
    if call.queue_id is None:
        call.queue = queue
    elif queue is not None and (queue.pk != call.queue_id or WAITING_IN_FLAG in call.flags):
        # Moved to another queue (or back): the record keeps the queue joined; the
        # wallboard counts the caller waiting where they wait now (the latest join; a
        # join older than the call's own is a late fact, not a move).
        since = call.flags.get(WAITING_IN_AT_FLAG)
        if since is None and call.queued_at is not None:
            since = call.queued_at.timestamp()
        if since is None or fact.at.timestamp() >= since:
            call.flags[WAITING_IN_FLAG] = queue.pk
            call.flags[WAITING_IN_AT_FLAG] = fact.at.timestamp()
    if call.queued_at is None or fact.at < call.queued_at:
        call.queued_at = fact.at
    return Timeline(
        CallEventType.QUEUE_JOINED, None, {"queue": fact.queue, "position": fact.position}
    )


def _left(call: Call, fact: te.QueueLeft, lk: Lookups) -> Timeline:
    return Timeline(CallEventType.QUEUE_LEFT, None, {"queue": fact.queue, "count": fact.count})


def _offered(call: Call, fact: te.AgentOffered, lk: Lookups) -> Timeline:
    return Timeline(
        CallEventType.AGENT_CALLED,
        lk.agent(fact.agent),
        {
            "agent": fact.agent,
            "leg": fact.leg_id,
            "queue": fact.queue,
        },
    )


def _offer_ended(call: Call, fact: te.AgentOfferEnded, lk: Lookups) -> Timeline:
    no_answer = fact.outcome == "no_answer"
    return Timeline(
        CallEventType.AGENT_RING_NO_ANSWER if no_answer else CallEventType.AGENT_OFFER_ENDED,
        lk.agent(fact.agent),
        {
            "agent": fact.agent,
            "leg": fact.leg_id,
            "outcome": fact.outcome,
            "ring_ms": fact.ring_ms,
            "queue": fact.queue,
        },
    )


def _answered(call: Call, fact: te.CallAnswered, lk: Lookups) -> Timeline:
    agent = lk.agent(fact.agent)
    # The first answer is the call's answer; a later one (say, a transfer target) is not.
    # An answer time derived from TalkTime is an estimate the real one replaces.
    if call.answered_at is None or call.flags.get(ANSWERED_DERIVED) or fact.at < call.answered_at:
        # Clocks of different sources can disagree by a little; an answer is never
        # before the call's start.
        call.answered_at = max(fact.at, call.started_at)
        call.flags.pop(ANSWERED_UNKNOWN, None)
        call.flags.pop(ANSWERED_DERIVED, None)
        call.flags.pop(DERIVED_TALK, None)
        if agent is not None:
            call.agent = agent
        if fact.wait_seconds is not None:
            _report_wait(call, fact.wait_seconds)
    if call.agent_id is None:
        call.agent = agent
    if call.queue_id is None:
        call.queue = lk.queue(fact.queue)
    return Timeline(
        CallEventType.ANSWERED,
        agent,
        {
            "agent": fact.agent,
            "wait_seconds": fact.wait_seconds,
            "ring_seconds": fact.ring_seconds,
            "leg": fact.leg_id,
        },
    )


def _originator_connected(call: Call, fact: te.OriginatorConnected, lk: Lookups) -> Timeline:
    agent = lk.agent(fact.agent)
    if call.agent_id is None:
        call.agent = agent
    return Timeline(CallEventType.AGENT_CONNECTED, agent, {"agent": fact.agent, "leg": fact.leg_id})


def _held(call: Call, fact: te.CallHeld, lk: Lookups) -> Timeline:
    if call.held_since is None and call.ended_at is None:
        call.held_since = fact.at
    return Timeline(CallEventType.HELD, lk.agent(fact.by_agent), {"by": fact.by_agent})


def _resumed(call: Call, fact: te.CallResumed, lk: Lookups) -> Timeline:
    if call.held_since is not None and fact.at >= call.held_since:
        call.hold_seconds += whole_seconds(call.held_since, fact.at)
        call.held_since = None
    return Timeline(CallEventType.RESUMED, lk.agent(fact.by_agent), {"by": fact.by_agent})


def _completed(call: Call, fact: te.AgentCompleted, lk: Lookups) -> Timeline:
    agent = lk.agent(fact.agent)
    if call.answered_at is None and fact.talk_seconds is not None:
        # Joined mid-call (resync): the answer time is only known through TalkTime.
        call.answered_at = (call.ended_at or fact.at) - timedelta(seconds=fact.talk_seconds)
        call.flags.pop(ANSWERED_UNKNOWN, None)
        call.flags[ANSWERED_DERIVED] = True
        call.flags[DERIVED_TALK] = fact.talk_seconds
    if call.agent_id is None:
        call.agent = agent
    if call.queue_id is None:
        call.queue = lk.queue(fact.queue)
    if not call.flags.get(WAIT_REPORTED) and fact.wait_seconds is not None:
        _report_wait(call, fact.wait_seconds)
    if fact.reason != HangupParty.TRANSFER and not call.hangup_by:
        call.hangup_by = fact.reason
    if fact.receipt_time and fact.talk_seconds is not None:
        # Times read in a burst say nothing of durations: app_queue's own count stands
        # (each agent's part of the call, added up).
        call.flags[TALK_BY_PBX] = call.flags.get(TALK_BY_PBX, 0) + fact.talk_seconds
    return Timeline(
        CallEventType.AGENT_COMPLETED,
        agent,
        {
            "agent": fact.agent,
            "talk_seconds": fact.talk_seconds,
            "reason": fact.reason,
        },
    )


def _abandoned(call: Call, fact: te.QueueAbandoned, lk: Lookups) -> Timeline:
    if call.queue_id is None:
        call.queue = lk.queue(fact.queue)
    if call.abandoned_at is None:
        call.abandoned_at = fact.at
        if fact.wait_seconds is not None:
            _report_wait(call, fact.wait_seconds)
    return Timeline(
        CallEventType.QUEUE_ABANDONED,
        None,
        {
            "queue": fact.queue,
            "wait_seconds": fact.wait_seconds,
            "position": fact.position,
            "original_position": fact.original_position,
        },
    )


def _reopen_hold(call: Call) -> None:
    """Undo what a close without the hangup counted of a hold still open then, so the
    real end closes it (finish_durations): a hold never outlasts the call."""
    held = call.flags.pop(HOLD_AT_CLOSE, None)
    if not isinstance(held, dict):
        return
    try:
        since = datetime.fromisoformat(str(held["since"]))
        counted = int(held["counted"])
    except (KeyError, TypeError, ValueError):
        return
    call.hold_seconds = max(0, call.hold_seconds - counted)
    call.held_since = since


def _ended(call: Call, fact: te.CallEnded, lk: Lookups) -> Timeline:
    if call.ended_at is None or call.flags.get(ENDED_WHILE_AWAY):
        _reopen_hold(call)
        call.ended_at = max(fact.at, call.started_at)
        call.flags.pop(ENDED_WHILE_AWAY, None)
        call.hangup_cause = fact.cause
        call.hangup_cause_text = fact.cause_text
        call.end_outcome = fact.outcome or ""
        if fact.hangup_by and not call.hangup_by:
            call.hangup_by = fact.hangup_by
        if call.flags.get(ANSWERED_DERIVED) and DERIVED_TALK in call.flags:
            # TalkTime counts to the hangup: the answer was that long before the end.
            call.answered_at = call.ended_at - timedelta(seconds=call.flags[DERIVED_TALK])
    return Timeline(
        CallEventType.ENDED,
        None,
        {
            "cause": fact.cause,
            "cause_text": fact.cause_text,
            "outcome": fact.outcome,
        },
    )


def _observed(call: Call, fact: te.CallObserved, lk: Lookups) -> Timeline:
    call.caller_number = call.caller_number or fact.caller_number
    call.caller_name = call.caller_name or fact.caller_name
    call.callee_number = call.callee_number or fact.callee_number
    if call.queue_id is None:
        call.queue = lk.queue(fact.queue)
    if fact.status in ("queued", "ringing") and fact.queue and call.queued_at is None:
        call.queued_at = (
            fact.at - timedelta(seconds=fact.wait_seconds) if fact.wait_seconds else fact.at
        )
    if fact.status in ("in_progress", "on_hold"):
        if call.agent_id is None:
            call.agent = lk.agent(fact.agent)
        if call.answered_at is None:
            call.flags[ANSWERED_UNKNOWN] = True
    if fact.status == "on_hold" and call.held_since is None:
        call.held_since = fact.at
    return Timeline(CallEventType.RESYNCED, lk.agent(fact.agent), {"observed": fact.status})


def apply_transfer(
    call: Call,
    fact: te.TransferFact,
    lk: Lookups,
    transfers: dict[str, CallTransfer],
) -> Timeline:
    if fact.receipt_time:
        call.flags[RECEIPT_TIMES] = True
    transfer = transfers.get(fact.transfer_key)
    if isinstance(fact, te.CallTransferred):
        return _transferred(call, fact, lk, transfers, transfer)
    if isinstance(fact, te.TransferFailed):
        # The first reason stands (a replay's later guess does not replace it); a decline
        # (the target's Cause 21) refines the busy its DialEnd said.
        refines = fact.reason == "rejected"
        if transfer is not None and transfer.status != TransferStatus.COMPLETED:
            if transfer.status != TransferStatus.FAILED or refines:
                transfer.details = {**transfer.details, "reason": fact.reason}
            transfer.status = TransferStatus.FAILED
        return Timeline(
            CallEventType.TRANSFER_FAILED,
            transfer.from_agent if transfer is not None else None,
            {"transfer": fact.transfer_key, "reason": fact.reason},
        )
    if transfer is not None:
        if transfer.answered_at is None or fact.at < transfer.answered_at:
            transfer.answered_at = fact.at
        if transfer.to_agent_id is None:
            transfer.to_agent = lk.agent(fact.to_agent)
        if transfer.status not in (TransferStatus.FAILED, TransferStatus.COMPLETED):
            # A blind transfer's target answered: the transfer reached someone.
            transfer.status = TransferStatus.COMPLETED
            transfer.completed_at = transfer.answered_at
    return Timeline(
        CallEventType.LEG_ADDED,
        lk.agent(fact.to_agent),
        {"transfer": fact.transfer_key, "answered_by": fact.to_agent},
    )


def _transferred(
    call: Call,
    fact: te.CallTransferred,
    lk: Lookups,
    transfers: dict[str, CallTransfer],
    transfer: CallTransfer | None,
) -> Timeline:
    if transfer is None:
        transfer = CallTransfer(
            organization_id=call.organization_id,
            call=call,
            dedup_key=fact.transfer_key,
            requested_at=fact.at,
            kind=fact.kind,
            details={},
        )
        transfers[fact.transfer_key] = transfer
    transfer.kind = fact.kind
    transfer.requested_at = min(transfer.requested_at, fact.at)
    if transfer.from_agent_id is None:
        transfer.from_agent = lk.agent(fact.from_agent)
    if transfer.to_agent_id is None:
        transfer.to_agent = lk.agent(fact.to_agent)
    transfer.to_number = transfer.to_number or fact.to_number
    transfer.details = {**transfer.details, "result": fact.result}
    if fact.joined_key:
        transfer.details["joined_call"] = fact.joined_key
        joined = call.flags.setdefault(JOINED_WITH, [])
        if fact.joined_key not in joined:
            joined.append(fact.joined_key)
    if not fact.succeeded:
        transfer.status = TransferStatus.FAILED
    elif fact.awaiting_target:
        if transfer.status == TransferStatus.REQUESTED:
            transfer.status = TransferStatus.RINGING
    elif transfer.status != TransferStatus.COMPLETED:
        transfer.status = TransferStatus.COMPLETED
        transfer.completed_at = fact.at
    if not fact.succeeded:
        kind = CallEventType.TRANSFER_FAILED
    elif fact.awaiting_target:
        kind = CallEventType.TRANSFER_STARTED
    else:
        kind = CallEventType.TRANSFER_COMPLETED
    return Timeline(
        kind,
        transfer.from_agent,
        {
            "kind": fact.kind,
            "from": fact.from_agent,
            "to_agent": fact.to_agent,
            "to": fact.to_number,
            "result": fact.result,
            "joined_call": fact.joined_key,
        },
    )


_HANDLERS: dict[type, Any] = {
    te.CallStarted: _started,
    te.QueueJoined: _queued,
    te.QueueLeft: _left,
    te.AgentOffered: _offered,
    te.AgentOfferEnded: _offer_ended,
    te.CallAnswered: _answered,
    te.OriginatorConnected: _originator_connected,
    te.CallHeld: _held,
    te.CallResumed: _resumed,
    te.AgentCompleted: _completed,
    te.QueueAbandoned: _abandoned,
    te.CallEnded: _ended,
    te.CallObserved: _observed,
}


def _pull_back_unknown_start(call: Call) -> None:
    """Until the call's first leg is seen, it started no later than anything seen of it."""
    if not call.flags.get(STARTED_UNKNOWN):
        return
    times = [call.queued_at, call.answered_at, call.abandoned_at, call.ended_at, call.held_since]
    call.started_at = min([call.started_at, *(t for t in times if t is not None)])


def apply_call_fact(call: Call, fact: te.CallFactBase, lk: Lookups) -> Timeline:
    """Change ``call`` by one fact and say what the timeline records of it."""
    if fact.receipt_time:
        call.flags[RECEIPT_TIMES] = True
    timeline: Timeline = _HANDLERS[type(fact)](call, fact, lk)
    _pull_back_unknown_start(call)
    _derive_wait(call)
    finish_durations(call)
    call.status = derive_status(call)
    return timeline


def close_unseen(call: Call, at_: Any, connection: str) -> Timeline:
    """A call open before a disconnect and gone after it: it ended while we were away."""
    call.ended_at = max(at_, call.started_at)
    call.flags[ENDED_WHILE_AWAY] = True
    if call.held_since is not None:
        call.flags[HOLD_AT_CLOSE] = {
            "since": call.held_since.isoformat(),
            "counted": whole_seconds(call.held_since, call.ended_at),
        }
    finish_durations(call)
    call.status = derive_status(call)
    return Timeline(
        CallEventType.RESYNCED,
        None,
        {
            "closed": "ended while the bridge was disconnected; end time is the resync time",
            "connection": connection,
        },
    )
