"""Named scenarios, shaped like the recorded transcripts (same agents, times, outcomes)."""

from __future__ import annotations

from collections.abc import Callable

from telephony.ami.simulator.clock import Script
from telephony.ami.simulator.originate import OriginateRequest
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import (
    InboundPlan,
    OutboundPlan,
    TransferPlan,
    inbound_call,
    outbound_call,
)
from telephony.ami.simulator.voicemail import VoicemailPlan, voicemail_call

ScenarioFactory = Callable[[PbxModel], Script]


def click_to_call_request(
    endpoint: str = "1003", number: str = "+12125550147", action_id: str | None = None
) -> OriginateRequest:
    return OriginateRequest(
        endpoint=endpoint,
        context="from-internal",
        exten=number,
        priority=1,
        caller_num=number,
        caller_name="Click2Call",
        timeout_ms=30_000,
        action_id=action_id,
    )


SCENARIOS: dict[str, ScenarioFactory] = {
    # 01: answered by 1001 after 6 s, 120 s talk, the caller hangs up.
    "answered": lambda pbx: inbound_call(
        pbx, InboundPlan("+15557654321", "JOHN SMITH", agents=("1001",), talk=120.0)
    ),
    # 02: 1002 rings out, 1003 rings, the caller gives up after 28 s.
    "abandoned": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+15559876543",
            agents=("1002", "1003"),
            no_answer_first=1,
            answer_after=30.0,
            patience=28.0,
        ),
    ),
    # 08: 1001 rings out (15 s), after retry 1002 answers.
    "ring_no_answer": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+15551112222", "RNA CALLER", agents=("1001", "1002"), no_answer_first=1, talk=60.0
        ),
    ),
    # 05: 1002 answers after 8 s and holds twice; the agent hangs up.
    "hold": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+15559876543",
            agents=("1002",),
            answer_after=8.0,
            talk=152.0,
            hangup_by="agent",
            holds=((31.6, 30.3), (91.5, 15.3)),
        ),
    ),
    # 03: 1001 answers, holds, blind-transfers to 1002 after 45 s.
    "blind_transfer": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+447700900123",
            "ACME LTD",
            agents=("1001",),
            answer_after=5.0,
            transfer=TransferPlan(kind="blind", to="1002", after=45.0, ring=8.5, talk=62.0),
        ),
    ),
    # 04: 1001 answers, consults 1002, completes the transfer (target swapped in).
    "attended_transfer": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+15553334444",
            "ATX CALLER",
            agents=("1001",),
            answer_after=5.0,
            transfer=TransferPlan(
                kind="attended", to="1002", after=30.0, ring=4.0, consult=12.0, talk=40.0
            ),
        ),
    ),
    # 1001 rings out; after 20 s in line the caller presses 1 to be called back on
    # another number (deploy/asterisk [callback-support]: UserEvent CallbackRequest).
    "callback": lambda pbx: inbound_call(
        pbx,
        InboundPlan(
            "+15557771234",
            "CB CALLER",
            agents=("1001",),
            no_answer_first=5,
            callback_after=20.0,
            callback_number="+15557770000",
        ),
    ),
    # Nobody answers within the queue's timeout: the caller leaves a 3 s message.
    "voicemail": lambda pbx: voicemail_call(pbx, VoicemailPlan("+15552223333", "VM CALLER")),
    # 06 #2: the agent answers after 4 s, the customer after 12 s, 95 s talk.
    "click_to_call": lambda pbx: outbound_call(pbx, OutboundPlan(click_to_call_request())),
    # 06 #1: the agent never answers: Cause 19 and OriginateResponse Failure.
    "click_to_call_no_answer": lambda pbx: outbound_call(
        pbx, OutboundPlan(click_to_call_request(), agent_answers=False)
    ),
}


def scenario(name: str) -> ScenarioFactory:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise KeyError(f"unknown scenario {name!r}; known: {known}") from None
