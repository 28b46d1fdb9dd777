"""A call's status and durations, derived from the facts stored on it.

Deriving instead of stepping through transitions makes the result independent of
the order facts arrive in (Twilio callbacks come shuffled; AMI events of different
threads are unordered): the same facts give the same call, whatever came first.
"""

from __future__ import annotations

from datetime import datetime

from contactcenter.enums import CallStatus
from contactcenter.models import Call
from contactcenter.models.calls import CALLBACK_KEPT_FLAG

ANSWERED_UNKNOWN = "answered_at_unknown"
# The call's times are when the bridge read its events (the PBX sent no Timestamp).
RECEIPT_TIMES = "receipt_times"
# app_queue's TalkTime, added up over the agents' parts, when times are receipt times.
TALK_BY_PBX = "talk_seconds_by_pbx"
# The caller asked to be called back (a Callback holds their place): ended unanswered,
# the call is CALLBACK, not ABANDONED (contactcenter/services/callbacks.py sets it).
CALLBACK_KEPT = CALLBACK_KEPT_FLAG


def whole_seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def is_answered(call: Call) -> bool:
    return call.answered_at is not None or bool(call.flags.get(ANSWERED_UNKNOWN))


def derive_status(call: Call) -> str:
    if call.ended_at is not None:
        if is_answered(call):
            return CallStatus.COMPLETED
        if call.flags.get(CALLBACK_KEPT):
            return CallStatus.CALLBACK
        if call.abandoned_at is not None:
            return CallStatus.ABANDONED
        if call.end_outcome in (
            CallStatus.NO_ANSWER,
            CallStatus.BUSY,
            CallStatus.FAILED,
            CallStatus.CANCELED,
        ):
            return call.end_outcome
        # Ended unanswered with no verdict: a caller who gave up before anyone answered.
        return CallStatus.CANCELED if call.queued_at is None else CallStatus.ABANDONED
    if call.held_since is not None:
        return CallStatus.ON_HOLD
    if is_answered(call):
        return CallStatus.IN_PROGRESS
    if call.queued_at is not None:
        return CallStatus.QUEUED
    return CallStatus.RINGING


def finish_durations(call: Call) -> None:
    """Close an open hold and compute talk time once the call has ended.

    Talk time runs from answer to end and includes hold, as app_queue's TalkTime does;
    hold time is reported beside it. When the times are receipt times, app_queue's
    TalkTime is the floor.
    """
    if call.ended_at is None:
        return
    if call.held_since is not None:
        call.hold_seconds += whole_seconds(call.held_since, call.ended_at)
        call.held_since = None
    if call.answered_at is not None:
        call.talk_seconds = whole_seconds(call.answered_at, call.ended_at)
        if call.flags.get(RECEIPT_TIMES):
            # Receipt times of a burst collapse; the PBX's own count does not.
            call.talk_seconds = max(call.talk_seconds, call.flags.get(TALK_BY_PBX, 0))
