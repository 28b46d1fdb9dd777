"""Twilio's recordings: turned on on the ``<Dial>`` that connects the agent, reported by
the ``recordingStatusCallback`` webhook, which fills the same Recording row as Asterisk's.

Twilio posts ``in-progress`` when the recording starts, then ``completed`` (the file is
ready: RecordingDuration, RecordingUrl) or ``absent`` (nothing recorded, or too short).
Retries repeat a request; callbacks are not ordered. So every request becomes recording
facts (contactcenter.facts) keyed by the RecordingSid and what they say, applied by the
domain's one door (``telephony_apply``): a repeated callback is a known ``dedup_key``
and writes nothing, and a late ``in-progress`` never reopens an ended recording. A
``completed`` recording's media is then fetched by a Celery task
(telephony/twilio/recording_media.py).

Forged (unsigned, or signed with another token): 403, nothing written. Signed but not
what Twilio sends: 400, nothing written. A conference's recording (ConferenceSid, no
CallSid) is no call's: acknowledged and ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from contactcenter import facts as te
from contactcenter.enums import CallSource, RecordingPolicy
from contactcenter.models import Organization
from contactcenter.services.telephony import telephony_apply
from telephony.twilio import signature
from telephony.twilio.callbacks import Hints, parse_hints, webhook_path
from telephony.twilio.params import InvalidCallback

logger = logging.getLogger(__name__)

RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
_CONFERENCE_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")
# What we ask Twilio to report; "absent" is a recording with no audio.
RECORDING_EVENTS = "in-progress completed absent"
# Both sides of the call, each on its own channel (the customer and the agent).
DIAL_RECORD = "record-from-answer-dual"
_KNOWN = {"in-progress", "completed", "absent", "failed"}
_MAX_TEXT = 256


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingCallback:
    recording_sid: str
    status: str
    call_sid: str = ""
    conference_sid: str = ""
    started_at: datetime | None = None
    duration: int | None = None
    error_code: str = ""


def _text(data: Mapping[str, str], name: str) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > _MAX_TEXT or any(ord(c) < 32 for c in value):
        raise InvalidCallback(f"{name} is not a plausible value.")
    return value


def _matching(data: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = _text(data, name)
    if value and not pattern.match(value):
        raise InvalidCallback(f"{name} is not a Twilio SID of its kind.")
    return value


def _start_time(data: Mapping[str, str]) -> datetime | None:
    value = _text(data, "RecordingStartTime")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)  # RFC 2822, as Twilio sends it
    except (TypeError, ValueError) as exc:
        raise InvalidCallback("RecordingStartTime is not an RFC 2822 date.") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _duration(data: Mapping[str, str]) -> int | None:
    value = _text(data, "RecordingDuration")
    if not value or value == "-1":  # -1: not known yet (an in-progress recording)
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidCallback("RecordingDuration is not a whole number of seconds.")
    return int(value)


def parse_recording_callback(data: Mapping[str, str]) -> RecordingCallback:
    """Typed fields of a ``recordingStatusCallback`` request; raises InvalidCallback."""
    recording_sid = _matching(data, "RecordingSid", RECORDING_SID)
    if not recording_sid:
        raise InvalidCallback("RecordingSid is missing.")
    call_sid = _matching(data, "CallSid", _CALL_SID)
    conference_sid = _matching(data, "ConferenceSid", _CONFERENCE_SID)
    if not call_sid and not conference_sid:
        raise InvalidCallback("A recording callback names a CallSid or a ConferenceSid.")
    return RecordingCallback(
        recording_sid=recording_sid,
        status=_text(data, "RecordingStatus").lower(),
        call_sid=call_sid,
        conference_sid=conference_sid,
        started_at=_start_time(data),
        duration=_duration(data),
        error_code=_text(data, "ErrorCode"),
    )


def recording_key(call_sid: str, recording_sid: str) -> str:
    """The start of the dedup keys of a recording's facts."""
    return f"twilio:{call_sid}:recording:{recording_sid}"


def recording_facts(
    cb: RecordingCallback, hints: Hints, *, media_format: str, now: datetime
) -> list[te.CallFact]:
    """The facts of one recording callback. Every kind says the recording started (one
    key: whichever comes first makes the row, with the agent of our URL); ``completed``
    also ends it at its start plus Twilio's duration; ``absent`` and ``failed`` fail it."""
    if not cb.call_sid or cb.status not in _KNOWN:
        return []
    start = cb.started_at or now
    call, leg, twilio = cb.call_sid, cb.recording_sid, CallSource.TWILIO
    key = recording_key(call, leg)
    facts: list[te.CallFact] = [
        te.RecordingStarted(
            call_key=call,
            at=start,
            dedup_key=f"{key}:started",
            source=twilio,
            leg_id=leg,
            agent=hints.agent,
        ),
        te.RecordingNamed(
            call_key=call,
            at=start,
            dedup_key=f"{key}:named",
            source=twilio,
            leg_id=leg,
            filename=f"{leg}.{media_format}",
        ),
    ]
    if cb.status == "completed":
        end = start + timedelta(seconds=cb.duration or 0) if cb.started_at else now
        facts.append(
            te.RecordingStopped(
                call_key=call, at=end, dedup_key=f"{key}:stopped", source=twilio, leg_id=leg
            )
        )
    elif cb.status in ("absent", "failed"):
        reason = f"Twilio: recording {cb.status}"
        if cb.error_code and cb.error_code != "0":
            reason += f" (error {cb.error_code})"
        facts.append(
            te.RecordingFailed(
                call_key=call,
                at=now,
                dedup_key=f"{key}:failed",
                source=twilio,
                leg_id=leg,
                reason=reason,
            )
        )
    return facts


def dial_recording(base_url: str, hints: Hints) -> dict[str, str]:
    """The ``<Dial>`` attributes that record the call once answered, and report to our
    webhook with the agent (who is rung, or who placed the call) and queue in its URL."""
    agent = hints.agent or hints.by
    return {
        "record": DIAL_RECORD,
        "recording_status_callback": base_url.rstrip("/")
        + webhook_path("recording-status", Hints(agent=agent, queue=hints.queue)),
        "recording_status_callback_event": RECORDING_EVENTS,
        "recording_status_callback_method": "POST",
    }


def organization_records_all(organization: Organization) -> bool:
    """Whether the organization's calls of no queue (an agent's outbound calls) are
    recorded once answered (``on_demand`` is asked by the agent)."""
    return bool(organization.recording_policy == RecordingPolicy.ALL)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    # The same body as the other webhooks' and the REST API's errors.
    return JsonResponse(
        {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]},
        status=status,
    )


@csrf_exempt
def recording_status(request: HttpRequest) -> HttpResponse:
    """The ``recordingStatusCallback``: apply what it says of the recording; once it is
    ``completed``, queue the fetch of its media. Answered 204 (Twilio ignores the body)."""
    # Imported here: the views import the TwiML, which imports this module; the media
    # module imports this one (its RECORDING_SID).
    from telephony.twilio.recording_media import twilio_recording_fetch_enqueue
    from telephony.twilio.views import connection_key

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    verdict = signature.verify(request)
    if verdict.account is None:
        signature.log_refusal(request, verdict)
        return _error(403, "twilio_signature_invalid", "The request is not signed by Twilio.")
    account = verdict.account
    try:
        cb = parse_recording_callback(request.POST)
        hints = parse_hints(request.GET)
    except InvalidCallback as exc:
        logger.warning("Twilio recording callback: bad request: %s", exc)
        return _error(400, "twilio_invalid_request", str(exc))
    if not cb.call_sid or cb.status not in _KNOWN:
        logger.info(
            "Twilio recording %s: %s %s ignored",
            cb.recording_sid,
            cb.conference_sid or "status",
            cb.status,
        )
        return HttpResponse(status=204)
    facts = recording_facts(
        cb, hints, media_format=settings.TWILIO_RECORDINGS_FORMAT, now=timezone.now()
    )
    with transaction.atomic():
        telephony_apply(
            organization_id=account.organization_id,
            connection_key=connection_key(account),
            events=facts,
        )
        if cb.status == "completed":
            twilio_recording_fetch_enqueue(
                organization_id=account.organization_id, recording_sid=cb.recording_sid
            )
    return HttpResponse(status=204)
