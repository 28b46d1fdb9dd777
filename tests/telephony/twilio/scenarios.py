"""Twilio's requests for whole calls, in the order Twilio sends them.

Field sets follow Twilio's voice webhooks: the standard request fields on every
request, ``Timestamp``/``SequenceNumber``/``CallbackSource`` on status callbacks,
``QueueResult``/``QueueTime`` on the Enqueue action, ``DialCall*`` on the Dial action.
"""

from __future__ import annotations

from telephony.twilio.callbacks import Hints, webhook_path
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    call_sid,
    stamp,
)

PARENT = call_sid(1)
AGENT_LEG = call_sid(2)
OUTBOUND = call_sid(3)


def _fields(sid: str, status: str, direction: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "Direction": direction,
        **extra,
    }


def _progress(seq: int, seconds: float) -> dict[str, str]:
    return {
        "SequenceNumber": str(seq),
        "Timestamp": stamp(seconds),
        "CallbackSource": "call-progress-events",
    }


def inbound_queue_call(extension: str, queue: str = "support") -> list[TwilioRequest]:
    """A caller waits 12 s in ``queue``; the agent's client rings, answers, talks 60 s;
    the caller hangs up."""
    agent = f"client:{extension}"
    caller = {"From": CALLER, "To": OUR_NUMBER}
    leg = {"From": CALLER, "To": agent, "ParentCallSid": PARENT}
    leg_path = webhook_path("status", Hints(agent=agent, queue=queue))
    return [
        TwilioRequest(
            webhook_path("voice"),
            # Twilio sends no Timestamp with the Voice URL request (its time is "now");
            # here it pins the clock so that records of separate runs compare exactly.
            _fields(
                PARENT, "ringing", "inbound", CallerName="JOHN SMITH", Timestamp=stamp(0), **caller
            ),
        ),
        # The number's own status callback: Twilio answered the call to run our TwiML.
        TwilioRequest(
            webhook_path("status"), _fields(PARENT, "in-progress", "inbound", **_progress(0, 0.5))
        ),
        # connect_agent redirected the caller out of the queue to ring the agent.
        TwilioRequest(
            webhook_path("queue-result", Hints(queue=queue)),
            _fields(
                PARENT,
                "in-progress",
                "inbound",
                QueueResult="redirected",
                QueueTime="5",
                QueueSid="QU" + "0" * 32,
                **caller,
            ),
        ),
        TwilioRequest(
            leg_path, _fields(AGENT_LEG, "initiated", "outbound-dial", **leg, **_progress(0, 5))
        ),
        TwilioRequest(
            leg_path, _fields(AGENT_LEG, "ringing", "outbound-dial", **leg, **_progress(1, 5.2))
        ),
        TwilioRequest(
            leg_path, _fields(AGENT_LEG, "in-progress", "outbound-dial", **leg, **_progress(2, 12))
        ),
        TwilioRequest(
            leg_path,
            _fields(
                AGENT_LEG,
                "completed",
                "outbound-dial",
                CallDuration="60",
                **leg,
                **_progress(3, 72),
            ),
        ),
        # The caller hung up: the Dial action comes with the parent already completed.
        TwilioRequest(
            webhook_path("dial-result", Hints(agent=agent, queue=queue)),
            _fields(
                PARENT,
                "completed",
                "inbound",
                DialCallStatus="completed",
                DialCallSid=AGENT_LEG,
                DialCallDuration="60",
                **caller,
            ),
        ),
        TwilioRequest(
            webhook_path("status"),
            _fields(
                PARENT, "completed", "inbound", CallDuration="72", **caller, **_progress(1, 72)
            ),
        ),
    ]


def outbound_call(extension: str, final: str = "completed") -> list[TwilioRequest]:
    """Click-to-call placed by the agent: the customer answers after 8 s, talks 60 s.

    With ``final`` busy/no-answer/failed/canceled the customer never answers.
    """
    path = webhook_path("status", Hints(agent=f"client:{extension}"))
    numbers = {"From": OUR_NUMBER, "To": CALLER}

    def callback(status: str, seq: int, seconds: float, **extra: str) -> TwilioRequest:
        fields = _fields(OUTBOUND, status, "outbound-api", **numbers, **_progress(seq, seconds))
        return TwilioRequest(path, {**fields, **extra})

    if final != "completed":
        return [
            callback("initiated", 0, 0),
            callback("ringing", 1, 1),
            callback(final, 2, 30, CallDuration="0"),
        ]
    return [
        callback("initiated", 0, 0),
        callback("ringing", 1, 1),
        callback("in-progress", 2, 8),
        callback("completed", 3, 68, CallDuration="60"),
    ]
