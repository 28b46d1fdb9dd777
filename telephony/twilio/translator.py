"""Twilio voice requests in, telephony events out (contactcenter.facts).

Pure functions of one parsed request, our URL hints and "now": no database, no state.
The domain applies facts idempotently (``dedup_key``) and derives the call from them
whatever their order, so what this module owes it is:

- the same request always gives the same facts with the same keys (a re-delivered
  callback then writes nothing); a key names the call leg, the status, Twilio's
  ``SequenceNumber`` and the fact, so two facts of one request never share a key;
- each fact comes from exactly one kind of request, so two callbacks never race to
  set the same thing (the call's end, the answer, the agent's hangup);
- a call is named by the parent CallSid; a child leg (ParentCallSid) is a leg of it.

One exception to "one kind of request per fact": a call an agent places from the
browser (our client webhook) that the customer never answers ends through the Dial
action (which knows the verdict: busy, no answer ...), and the TwiML app's status
callback of the browser call says "completed" too (whatever happened). Twilio asks for
the Dial action while the browser call is still up and ends it only on our (empty)
answer, so the verdict comes first; the status webhook drops the browser call's status
once the call has ended, and the domain keeps the first end anyway.

Times are Twilio's ``Timestamp`` when the request has one (status callbacks do),
else ``now``: the Voice URL and the action callbacks happen as we receive them.
"""

from __future__ import annotations

from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallDirection, CallSource, HangupParty, TransferKind
from telephony.twilio.callbacks import CLIENT_PREFIX, Hints
from telephony.twilio.params import Callback

_TWILIO = CallSource.TWILIO
_END_OUTCOMES: dict[str, te.EndOutcome | None] = {
    "completed": None,  # the domain decides from the facts (answered, abandoned ...)
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "canceled",
}
_RING_OUTCOMES: dict[str, te.RingOutcome] = {
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "canceled",
}
# The caller hung up, or left through <Leave>: unserved.
_ABANDONED = {"hangup", "leave"}
# The Enqueue action of a bridged caller fires only once the bridged call is over, and
# says nothing about who answered: it is not the moment the caller left the queue.
_NOT_LEFT_YET = {"bridged", "bridging-in-process"}
_DIAL_CONNECTED = {"completed", "answered"}


def _at(cb: Callback, now: datetime) -> datetime:
    return cb.timestamp or now


def _key(cb: Callback, *parts: object) -> str:
    return ":".join(["twilio", cb.call_sid, *("-" if p is None else str(p) for p in parts)])


def _status_key(cb: Callback, fact: str) -> str:
    return _key(cb, cb.status, cb.sequence, fact)


def incoming(cb: Callback, *, queue: str, now: datetime) -> list[te.CallFact]:
    """The Voice URL of one of our numbers: a customer calls; we put them in ``queue``."""
    at = _at(cb, now)
    facts: list[te.CallFact] = [
        te.CallStarted(
            call_key=cb.call_sid,
            at=at,
            dedup_key=_key(cb, "incoming", "started"),
            source=_TWILIO,
            direction=CallDirection.INBOUND,
            caller_number=cb.from_number,
            caller_name=cb.caller_name,
            callee_number=cb.to,
        )
    ]
    if queue:
        facts.append(
            te.QueueJoined(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_key(cb, "incoming", "queued"),
                source=_TWILIO,
                queue=queue,
            )
        )
    return facts


def placed_from_browser(cb: Callback) -> bool:
    """A call an agent's Voice SDK placed through the TwiML app: the client webhook's,
    and the TwiML app's status callbacks of it."""
    return not cb.is_child and cb.from_number.startswith(CLIENT_PREFIX)


def client_call(
    cb: Callback, *, agent: str, caller_id: str, callee: str, now: datetime
) -> list[te.CallFact]:
    """The TwiML app's Voice URL: ``agent`` calls ``callee`` from the browser; the customer
    sees ``caller_id``. An outbound call, placed by that agent."""
    return [
        te.CallStarted(
            call_key=cb.call_sid,
            at=_at(cb, now),
            dedup_key=_key(cb, "client", "started"),
            source=_TWILIO,
            direction=CallDirection.OUTBOUND,
            caller_number=caller_id,
            callee_number=callee,
            agent=agent,
        )
    ]


def status(cb: Callback, hints: Hints, *, now: datetime) -> list[te.CallFact]:
    """A status callback of a call (parent) or of one of its dialled legs (child)."""
    at = _at(cb, now)
    if cb.is_child:
        return _child_leg(cb, hints, at)
    facts: list[te.CallFact] = []
    if cb.direction == "outbound-api":
        # A call we placed: no Voice URL request announces it, and any of its callbacks
        # may come first, so each restates the start (the domain keeps the earliest).
        # It comes first in the batch, so the call is known as outbound before the rest.
        facts.append(
            te.CallStarted(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_status_key(cb, "started"),
                source=_TWILIO,
                direction=CallDirection.OUTBOUND,
                caller_number=cb.from_number,
                callee_number=cb.to,
                agent=hints.agent,
            )
        )
        if cb.status == "in-progress":
            facts.append(
                te.CallAnswered(
                    call_key=cb.call_sid,
                    at=at,
                    dedup_key=_status_key(cb, "answered"),
                    source=_TWILIO,
                    agent=hints.agent,
                )
            )
    # An inbound call is "in-progress" as soon as Twilio runs our TwiML (the caller
    # hears the queue), so that is not an answer: the agent leg's answer is. So is a
    # browser's call (Direction "inbound" too): the customer leg's answer is.
    if cb.status in _END_OUTCOMES:
        facts.append(
            te.CallEnded(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_status_key(cb, "ended"),
                source=_TWILIO,
                outcome=_END_OUTCOMES[cb.status],
            )
        )
    return facts


def _child_leg(cb: Callback, hints: Hints, at: datetime) -> list[te.CallFact]:
    call, leg = cb.parent_call_sid, cb.call_sid
    if hints.by:
        return _customer_leg(cb, hints, at)
    agent = cb.to if cb.to.startswith(CLIENT_PREFIX) else hints.agent
    facts: list[te.CallFact] = []
    if cb.status == "ringing" and agent:
        facts.append(
            te.AgentOffered(
                call_key=call,
                at=at,
                dedup_key=_status_key(cb, "offered"),
                source=_TWILIO,
                agent=agent,
                leg_id=leg,
                queue=hints.queue,
            )
        )
    elif cb.status == "in-progress" and hints.transfer:
        facts += [
            _transferred(cb, hints, at, agent, succeeded=True),
            te.TransferAnswered(
                call_key=call,
                at=at,
                dedup_key=_status_key(cb, "transfer-answered"),
                source=_TWILIO,
                transfer_key=hints.transfer,
                to_agent=agent,
            ),
        ]
    elif cb.status == "in-progress" and agent:
        facts.append(
            te.CallAnswered(
                call_key=call,
                at=at,
                dedup_key=_status_key(cb, "answered"),
                source=_TWILIO,
                agent=agent,
                queue=hints.queue,
                leg_id=leg,
            )
        )
    elif cb.status in _RING_OUTCOMES:
        if hints.transfer:
            facts.append(_transferred(cb, hints, at, agent, succeeded=False))
        if agent:
            facts.append(
                te.AgentOfferEnded(
                    call_key=call,
                    at=at,
                    dedup_key=_status_key(cb, "offer-ended"),
                    source=_TWILIO,
                    agent=agent,
                    leg_id=leg,
                    outcome=_RING_OUTCOMES[cb.status],
                    queue=hints.queue,
                )
            )
    # "completed" of a leg: the Dial action reports it, knowing who hung up.
    return facts


def _customer_leg(cb: Callback, hints: Hints, at: datetime) -> list[te.CallFact]:
    """The customer, dialled for the agent whose browser placed the call (``hints.by``).

    Only the answer says something: a leg that never answers offered nothing to an
    agent, and the Dial action reports how it went and how it ended.
    """
    if cb.status != "in-progress":
        return []
    return [
        te.CallAnswered(
            call_key=cb.parent_call_sid,
            at=at,
            dedup_key=_status_key(cb, "answered"),
            source=_TWILIO,
            agent=hints.by,
            leg_id=cb.call_sid,
        )
    ]


def _transferred(
    cb: Callback, hints: Hints, at: datetime, agent: str, *, succeeded: bool
) -> te.CallTransferred:
    # Only the target leg's answer or its failure says how a blind transfer went, and a
    # leg has exactly one of the two: one CallTransferred per transfer, whatever the order.
    return te.CallTransferred(
        call_key=cb.parent_call_sid,
        at=at,
        dedup_key=_status_key(cb, "transferred"),
        source=_TWILIO,
        transfer_key=hints.transfer,
        kind=TransferKind.BLIND,
        from_agent=hints.from_agent,
        to_agent=agent,
        to_number="" if agent else cb.to,
        succeeded=succeeded,
        result="answered" if succeeded else cb.status,
    )


def queue_result(cb: Callback, hints: Hints, *, now: datetime) -> list[te.CallFact]:
    """The Enqueue action: the caller left the queue (QueueResult, QueueTime)."""
    if cb.queue_result in _NOT_LEFT_YET:
        return []
    at = _at(cb, now)
    facts: list[te.CallFact] = [
        te.QueueLeft(
            call_key=cb.call_sid,
            at=at,
            dedup_key=_key(cb, "queue", cb.queue_result, "left"),
            source=_TWILIO,
            queue=hints.queue,
        )
    ]
    if cb.queue_result in _ABANDONED:
        facts.append(
            te.QueueAbandoned(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_key(cb, "queue", cb.queue_result, "abandoned"),
                source=_TWILIO,
                queue=hints.queue,
                wait_seconds=cb.queue_time,
            )
        )
    return facts


def call_is_over(cb: Callback) -> bool:
    """A status callback of a call (not a leg) that says it has ended."""
    return not cb.is_child and cb.status in _END_OUTCOMES


def dial_connected(cb: Callback) -> bool:
    """The Dial action of a leg that was answered (and is now over)."""
    return cb.dial_status in _DIAL_CONNECTED


def should_requeue(cb: Callback, hints: Hints) -> bool:
    """An agent did not take a queue call and the caller is still there: back in line."""
    return (
        bool(hints.queue)
        and not hints.transfer
        and not hints.room
        and cb.status == "in-progress"
        and cb.dial_status in _RING_OUTCOMES
    )


def dial_result(cb: Callback, hints: Hints, *, now: datetime) -> list[te.CallFact]:
    """The Dial action: the dialled leg is over (DialCallStatus, DialCallDuration).

    The parent's CallStatus tells who ended a connected leg: still ``in-progress`` means
    the dialled party hung up (the caller is waiting for what comes next).
    """
    at = _at(cb, now)
    leg = cb.dial_call_sid or None
    if hints.by:
        return _customer_dial_result(cb, hints, at, leg)
    # The dialled party is the agent: a parent still in progress means they hung up.
    dialled_hung_up = HangupParty.AGENT if cb.status == "in-progress" else HangupParty.CALLER
    if hints.room and hints.agent:
        # The caller's <Dial><Conference> of a routed call moved there for a supervisor:
        # the room ended as one of the two left it, as the <Dial> it replaced would have.
        return [
            _leg_completed(cb, at, hints.agent, dialled_hung_up, queue=hints.queue, room=hints.room)
        ]
    if cb.dial_status in _DIAL_CONNECTED and hints.agent:
        return [_leg_completed(cb, at, hints.agent, dialled_hung_up, queue=hints.queue)]
    if should_requeue(cb, hints):
        return [
            te.QueueJoined(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_key(cb, "dial", leg, "requeued"),
                source=_TWILIO,
                queue=hints.queue,
            )
        ]
    return []


def _leg_completed(
    cb: Callback,
    at: datetime,
    agent: str,
    reason: HangupParty,
    *,
    queue: str = "",
    room: str = "",
) -> te.AgentCompleted:
    """The Dial action of a connected leg, or of the caller's <Dial><Conference> of the
    ``room``: the agent's part of the call is over. A room's duration is not the talk
    time (that runs from the call's answer), so it gives none."""
    ended = ("room", room) if room else ("dial", cb.dial_call_sid or None)
    return te.AgentCompleted(
        call_key=cb.call_sid,
        at=at,
        dedup_key=_key(cb, *ended, "completed"),
        source=_TWILIO,
        agent=agent,
        talk_seconds=None if room else cb.dial_duration,
        reason=reason,
        queue=queue,
    )


def _customer_dial_result(
    cb: Callback, hints: Hints, at: datetime, leg: str | None
) -> list[te.CallFact]:
    """The Dial action of a browser-placed call: the customer leg is over.

    Here the dialled party is the customer: a parent still ``in-progress`` means they
    hung up, else the agent did. A customer who never answered ends the call with
    Twilio's verdict (our answer to this request is empty: the browser call ends), which
    the browser call's own status cannot give (it is ``completed`` whatever happened).
    """
    if cb.dial_status in _DIAL_CONNECTED:
        dialled_hung_up = HangupParty.CALLER if cb.status == "in-progress" else HangupParty.AGENT
        return [_leg_completed(cb, at, hints.by, dialled_hung_up)]
    if cb.dial_status in _RING_OUTCOMES:
        return [
            te.CallEnded(
                call_key=cb.call_sid,
                at=at,
                dedup_key=_key(cb, "dial", leg, "ended"),
                source=_TWILIO,
                outcome=_END_OUTCOMES[cb.dial_status],
            )
        ]
    return []
