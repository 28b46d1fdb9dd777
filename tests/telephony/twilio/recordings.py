"""Twilio's recording status callbacks, with the fields Twilio sends (docs/twilio.md
names the webhook): no From/To/CallStatus; AccountSid, CallSid, RecordingSid,
RecordingUrl, RecordingStatus, RecordingDuration, RecordingChannels, RecordingSource,
RecordingStartTime (RFC 2822) and ErrorCode=0."""

from __future__ import annotations

from django.test import Client

from contactcenter.models import Agent
from telephony.twilio.callbacks import Hints, webhook_path
from tests.telephony.twilio import scenarios
from tests.telephony.twilio.signed import ACCOUNT_SID, TwilioRequest, deliver, stamp

RECORDING = "RE" + "5e" * 16
OTHER_RECORDING = "RE" + "6f" * 16


def recording_callback(
    status: str,
    *,
    agent: Agent | None = None,
    recording_sid: str = RECORDING,
    call_sid: str = scenarios.PARENT,
    duration: str = "60",
    start: float = 12,
    **extra: str,
) -> TwilioRequest:
    """A recording callback of the call's ``<Dial>`` recording, which started when the
    agent answered (12 s into the scenario's call)."""
    hints = Hints(agent=f"client:{agent.twilio_identity}" if agent else "", queue="support")
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingUrl": (
            f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        ),
        "RecordingStatus": status,
        "RecordingDuration": duration if status == "completed" else "-1",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
        "RecordingStartTime": stamp(start),
        "ErrorCode": "0",
        **extra,
    }
    return TwilioRequest(webhook_path("recording-status", hints), fields)


def answered_call(agent: Agent) -> None:
    """The scenario's call, up to the agent's answer (its first six requests)."""
    client = Client()
    for request in scenarios.inbound_queue_call(agent.extension)[:6]:
        response = deliver(client, request)
        assert response.status_code in (200, 204), (str(request), response.content)


def hung_up(agent: Agent) -> None:
    """The rest of the scenario: the agent's leg and the caller end."""
    client = Client()
    for request in scenarios.inbound_queue_call(agent.extension)[6:]:
        response = deliver(client, request)
        assert response.status_code in (200, 204), (str(request), response.content)
