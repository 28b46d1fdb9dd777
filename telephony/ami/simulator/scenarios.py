"""Call scripts: generators that drive calls.py/transfers.py/originate.py over time.

A script yields the simulated seconds to wait before its next step. After every
wait it checks whether an AMI action (Hangup, Redirect, a transfer) has already
ended its call, and stops quietly if so. ``SCENARIOS`` holds named scripts shaped
like the recorded transcripts (tests/telephony/transcripts), for the management
command and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from telephony.ami.simulator.calls import (
    Call,
    abandon,
    finish,
    hangup_connected,
    inbound_arrive,
    pick_member,
    queue_answer,
    queue_join,
    request_callback,
    ring_alert,
    ring_member,
    ring_no_answer,
)
from telephony.ami.simulator.channels import Channel, DeviceState
from telephony.ami.simulator.clock import USEC, Script
from telephony.ami.simulator.originate import (
    REASON_HANGUP,
    OriginateRequest,
    customer_alert,
    customer_answer,
    customer_no_answer,
    dial_customer,
    originate_alert,
    originate_answer,
    originate_no_answer,
    originate_response,
    originate_start,
)
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.queues import Member, Queue
from telephony.ami.simulator.transfers import (
    alert_extension,
    answer_extension,
    attended_transfer,
    blind_transfer,
    consult_answer,
    consult_start,
    dial_extension,
    hold,
    unhold,
)

# The gaps Asterisk leaves between the events of one moment (seconds), as in the fixtures.
STEP = 0.0003
PICKUP = 0.12


@dataclass(frozen=True)
class TransferPlan:
    kind: str  # "blind" or "attended"
    to: str  # the target extension (an agent phone)
    after: float  # seconds after the agent answered
    ring: float = 5.0
    consult: float = 10.0  # attended only: the agent talks to the target first
    talk: float = 60.0  # caller and target, after the transfer
    hold_first: float = 3.0  # the phone holds the caller this long before a blind REFER
    hangup_by: str = "target"  # or "caller"


@dataclass(frozen=True)
class InboundPlan:
    """An inbound queue call. ``agents`` fixes who rings, in order; empty = the queue picks."""

    caller_num: str
    caller_name: str = ""
    queue: str = "support"
    agents: tuple[str, ...] = ()
    no_answer_first: int = 0  # members that ring out (AgentRingNoAnswer) before one answers
    answer_after: float = 6.0
    patience: float = 600.0  # the caller hangs up after this long unanswered
    # Unanswered after this long, the caller presses 1 to be called back instead of
    # hanging up (before ``patience``); ``callback_number``: the number they leave.
    callback_after: float | None = None
    callback_number: str = ""
    talk: float = 120.0
    hangup_by: str = "caller"  # or "agent"
    holds: tuple[tuple[float, float], ...] = ()  # (seconds after answer, duration)
    transfer: TransferPlan | None = None


@dataclass(frozen=True)
class OutboundPlan:
    request: OriginateRequest
    agent_answers: bool = True
    agent_ring: float = 4.0
    customer_answers: bool = True
    customer_ring: float = 12.0
    talk: float = 95.0
    hangup_by: str = "agent"  # or "customer"
    on_agent_outcome: Callable[[bool], None] | None = field(default=None, compare=False)


def _elapsed(pbx: PbxModel, since_usec: int) -> float:
    return (pbx.clock.now() - since_usec) / USEC


def free_phones(pbx: PbxModel, numbers: list[str]) -> list[str]:
    """The agent phones among ``numbers`` that are idle: neither ringing nor on a call.

    The load generator's agents dial out, and transfer to colleagues, only from and to
    these: an agent on a call does not start another, and a colleague who is busy is
    not the one picked (a direct dial would ring a busy phone, queues or not).
    """
    return [n for n in numbers if pbx.device_state(f"PJSIP/{n}") == DeviceState.NOT_INUSE]


def _next_member(pbx: PbxModel, queue: Queue, forced: list[str]) -> Member | None:
    while forced:
        member = queue.members.get(f"PJSIP/{forced[0]}")
        forced.pop(0)
        if member is not None and pbx.is_available(member):
            return member
    return pick_member(pbx, queue)


def _give_up(pbx: PbxModel, call: Call, plan: InboundPlan) -> None:
    """The caller stops waiting: hangs up, or asks to be called back."""
    if plan.callback_after is not None:
        request_callback(pbx, call, plan.callback_number)
    else:
        abandon(pbx, call)


# While a phone rings, how often (simulated seconds) the script looks whether an AMI
# action ended the ring early (a Redirect took the caller elsewhere).
_RING_LOOK = 1.0


def _ring(call: Call, leg: Channel, seconds: float) -> Script:
    """Let ``leg`` ring for ``seconds``, or until it or the call is hung up."""
    left = seconds
    while left > 0 and not call.ended and not leg.hungup:
        step = min(_RING_LOOK, left)
        yield step
        left -= step


def inbound_call(pbx: PbxModel, plan: InboundPlan) -> Script:
    if plan.callback_after is not None:
        plan = replace(plan, patience=min(plan.patience, plan.callback_after))
    call = inbound_arrive(pbx, plan.caller_num, plan.caller_name)
    yield 0.05
    if call.ended:
        return
    queue = pbx.queues[plan.queue]
    queue_join(pbx, call, queue)
    forced = list(plan.agents)
    rna_left = plan.no_answer_first
    while True:
        if call.queue is not None and call.queue is not queue:
            # Redirected into another queue (a supervisor's move): ring its members.
            queue, forced = call.queue, []
        left = plan.patience - _elapsed(pbx, call.joined_usec)
        member = _next_member(pbx, queue, forced)
        if member is None:
            if left < 0.001:
                _give_up(pbx, call, plan)
                return
            # Nobody free: app_queue retries every `retry` seconds until the caller gives up.
            yield min(float(queue.retry), left)
            if call.ended:
                return
            continue
        member.reserved = True  # picked: no other caller takes it while the dial starts
        yield 0.007
        if call.ended:
            member.reserved = False
            return
        attempt = ring_member(pbx, call, member)
        yield PICKUP
        if call.ended:
            return
        ring_alert(pbx, call, attempt)
        ring_for = float(queue.timeout) if rna_left > 0 else plan.answer_after
        left = plan.patience - _elapsed(pbx, call.joined_usec)
        if left < ring_for:
            yield from _ring(call, attempt.leg, max(0.0, left))
            if call.ended:
                return
            if attempt.leg.hungup:  # a Redirect took the caller: it goes on there
                continue
            _give_up(pbx, call, plan)
            return
        yield from _ring(call, attempt.leg, ring_for)
        if call.ended:
            return
        if attempt.leg.hungup:  # hung up by an AMI action while ringing
            continue
        if rna_left > 0:
            rna_left -= 1
            ring_no_answer(pbx, call, attempt)
            yield float(queue.retry)
            if call.ended:
                return
            continue
        queue_answer(pbx, call, attempt)
        break
    yield from _talk(pbx, call, plan)


def _talk(pbx: PbxModel, call: Call, plan: InboundPlan) -> Script:
    """The connected part: holds, maybe a transfer, then someone hangs up."""
    agent = call.peer
    assert agent is not None
    timeline: list[tuple[float, str]] = []
    for start, duration in plan.holds:
        timeline += [(start, "hold"), (start + duration, "unhold")]
    transfer = plan.transfer
    if transfer is not None and transfer.to == agent.endpoint:
        # A random plan picked the answering agent as the target: pick someone else.
        others = [p.number for p in pbx.directory.agent_phones if p.number != agent.endpoint]
        transfer = replace(transfer, to=others[0]) if others else None
    if transfer is not None:
        if transfer.kind == "blind" and transfer.hold_first > 0:
            timeline.append((max(0.0, transfer.after - transfer.hold_first), "hold"))
        timeline.append((transfer.after, "transfer"))
    else:
        timeline.append((plan.talk, "end"))
    clock = 0.0
    for at, what in sorted(timeline):
        yield max(0.0, at - clock)
        clock = max(clock, at)
        if call.ended or call.peer is not agent:
            return
        if what == "hold":
            hold(pbx, call, agent)
        elif what == "unhold":
            unhold(pbx, call)
        elif what == "end":
            unhold(pbx, call)
            hangup_connected(pbx, call, call.caller if plan.hangup_by == "caller" else agent)
            return
        elif transfer is not None:
            target = _free_target(pbx, transfer.to, agent.endpoint)
            if target is None:
                # No colleague is free to take it: the agent finishes the call instead.
                unhold(pbx, call)
                hangup_connected(pbx, call, agent)
                return
            yield from _transfer(pbx, call, agent, replace(transfer, to=target))
            return


def _free_target(pbx: PbxModel, planned: str, agent: str) -> str | None:
    """The planned transfer target if free now, else the first free colleague."""
    others = [p.number for p in pbx.directory.agent_phones if p.number not in (planned, agent)]
    free = free_phones(pbx, [planned, *others])
    return free[0] if free else None


def _transfer(pbx: PbxModel, call: Call, agent: Channel, plan: TransferPlan) -> Script:
    if plan.kind == "blind":
        blind_transfer(pbx, call, agent, "from-internal", plan.to, external=True)
        yield 0.006
        yield from extension_call(pbx, call, plan.to, plan.ring, plan.talk, plan.hangup_by)
    else:
        yield from attended_transfer_call(pbx, call, agent, plan, external=True)


def extension_call(
    pbx: PbxModel, call: Call, number: str, ring: float, talk: float, hangup_by: str
) -> Script:
    """The caller (out of its bridge) dials ``number``, which answers; they talk."""
    if call.ended:
        return
    attempt = dial_extension(pbx, call, call.caller, number)
    if attempt is None:
        # Nothing in the dialplan for it: the channel just ends.
        finish(pbx, call, [call.caller])
        return
    yield PICKUP
    if call.ended or attempt.leg.hungup:
        return
    alert_extension(pbx, call.caller, attempt)
    yield ring
    if call.ended or attempt.leg.hungup:
        return
    answer_extension(pbx, call, call.caller, attempt)
    yield talk
    if call.ended or call.peer is None:
        return
    hangup_connected(pbx, call, call.caller if hangup_by == "caller" else call.peer)


def attended_transfer_call(
    pbx: PbxModel, call: Call, agent: Channel, plan: TransferPlan, *, external: bool
) -> Script:
    """The agent consults ``plan.to`` and then hands the caller over."""
    consult = consult_start(pbx, call, agent, plan.to)
    yield PICKUP
    if call.ended or consult.target.leg.hungup:
        return
    alert_extension(pbx, consult.second, consult.target)
    yield plan.ring
    if call.ended or consult.target.leg.hungup or agent.hungup:
        return
    consult_answer(pbx, call, consult)
    yield plan.consult
    if call.ended or agent.hungup or consult.target.leg.hungup:
        return
    attended_transfer(pbx, call, agent, consult, external=external)
    yield plan.talk
    if call.ended or call.peer is None:
        return
    hangup_connected(pbx, call, call.caller if plan.hangup_by == "caller" else call.peer)


def outbound_call(pbx: PbxModel, plan: OutboundPlan) -> Script:
    """Click-to-call: ring the agent, then dial the customer (or the internal extension)."""
    request = plan.request
    call = originate_start(pbx, request)
    yield 0.09
    if call.ended:
        return
    originate_alert(pbx, call)
    wait = plan.agent_ring if plan.agent_answers else request.timeout_ms / 1000
    yield wait
    if call.ended:
        # Hung up (an AMI Hangup) while ringing: Reason 1, "hangup".
        originate_response(pbx, request, None, REASON_HANGUP)
        if plan.on_agent_outcome:
            plan.on_agent_outcome(False)
        return
    if not plan.agent_answers:
        originate_no_answer(pbx, call, request)
        if plan.on_agent_outcome:
            plan.on_agent_outcome(False)
        return
    originate_answer(pbx, call, request)
    if plan.on_agent_outcome:
        plan.on_agent_outcome(True)
    yield 0.002
    if pbx.directory.phone(request.exten) is not None:
        hanger = "caller" if plan.hangup_by == "agent" else "target"
        yield from extension_call(pbx, call, request.exten, plan.customer_ring, plan.talk, hanger)
        return
    attempt = dial_customer(pbx, call, request.exten)
    yield PICKUP
    if call.ended:
        return
    customer_alert(pbx, call, attempt)
    yield plan.customer_ring if plan.customer_answers else 60.0
    if call.ended:
        return
    if not plan.customer_answers:
        customer_no_answer(pbx, call, attempt)
        hangup_connected(pbx, call, call.caller)
        return
    customer_answer(pbx, call, attempt)
    yield plan.talk
    if call.ended or call.peer is None:
        return
    hangup_connected(pbx, call, call.caller if plan.hangup_by == "agent" else call.peer)
