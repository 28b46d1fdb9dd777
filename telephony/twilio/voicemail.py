"""A Twilio queue's voicemail exit: the caller leaves a message with ``<Record>``.

The routing sends a caller who waited too long here (telephony/twilio/routing/exits.py:
a redirect to ``voicemail/?queue=<name>``). ``voicemail/`` answers a prompt and a
``<Record>`` whose three reports each become a ``VoicemailLeft`` fact, keyed by the
caller's CallSid, applied by the domain's one door (``telephony_apply``):

- ``voicemail-done/``, the ``<Record>``'s action: RecordingSid and RecordingDuration
  (also requested after the caller hangs up: ``Digits=hangup``); answers goodbye;
- ``voicemail-recording/``, its ``recordingStatusCallback``: ``completed`` (the audio is
  ready) or ``absent``/``failed`` (no audio: the voicemail stays, without media);
- ``voicemail-transcription/``, its ``transcribeCallback``: Twilio's transcription.

They come in any order and may be repeated (retries carry the same
``I-Twilio-Idempotency-Token``): each only fills in what it knows, so the row is the
same whatever the order and however many times. Forged (not signed by an enabled
account's token): 403 and nothing written (views.webhook); signed but not what Twilio
sends: 400 and nothing written. The audio is fetched later from Twilio's REST API by its
SIDs, never from the RecordingUrl a request names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from contactcenter import facts as te
from contactcenter.enums import CallSource
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from telephony.twilio.params import Callback, InvalidCallback
from telephony.twilio.views import connection_key, webhook

PROMPT = "No one can take your call right now. Please leave a message after the tone."
THANKS = "Thank you. We will get back to you. Goodbye."
NOTHING_HEARD = "We did not hear a message. Goodbye."
MAX_SECONDS = 120
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
_TRANSCRIPTION_MAX = 10_000
_STATUSES = {"in-progress", "completed", "absent", "failed"}
_TRANSCRIPTION_STATUSES = {"completed", "failed"}


def _bad(exc: InvalidCallback) -> JsonResponse:
    # The same body as the other webhooks' refusals (the REST API's error shape).
    error = {"code": "twilio_invalid_request", "detail": str(exc), "attr": None}
    return JsonResponse({"type": "client_error", "errors": [error]}, status=400)


def _xml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def record_twiml(queue: str) -> str:
    """The prompt and the ``<Record>``, every report signed back to us."""
    hints = Hints(queue=queue)
    response = VoiceResponse()
    response.say(PROMPT)
    response.record(
        action=webhook_path("voicemail-done", hints),
        method="POST",
        max_length=MAX_SECONDS,
        timeout=5,
        play_beep=True,
        finish_on_key="#",
        recording_status_callback=webhook_path("voicemail-recording", hints),
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
        transcribe=True,
        transcribe_callback=webhook_path("voicemail-transcription", hints),
    )
    # <Record> that heard nothing goes on to the next verb.
    response.say(NOTHING_HEARD)
    response.hangup()
    return str(response)


def _field(data: Mapping[str, str], name: str, limit: int = 256) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > limit or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidCallback(f"{name} is not a plausible value.")
    return value


def _recording_sid(data: Mapping[str, str]) -> str:
    value = _field(data, "RecordingSid")
    if value and not RECORDING_SID.match(value):
        raise InvalidCallback("RecordingSid is not a recording SID.")
    return value


def _seconds(data: Mapping[str, str]) -> int | None:
    value = _field(data, "RecordingDuration")
    if not value or value == "-1":  # -1: no audio (an absent recording)
        return None
    if not (value.isascii() and value.isdigit() and len(value) < 7):
        raise InvalidCallback("RecordingDuration is not a whole number of seconds.")
    return int(value)


def _dedup_key(request: HttpRequest, kind: str, callback: Callback) -> str:
    """Twilio's idempotency token when it sends one (a retry repeats it), else the
    request's own fields."""
    token = request.headers.get("I-Twilio-Idempotency-Token", "")[:128]
    if not token:
        body = "&".join(f"{k}={v}" for k, v in sorted(request.POST.items()))
        token = hashlib.sha256(body.encode()).hexdigest()
    return f"twilio:voicemail:{kind}:{callback.call_sid}:{token}"


def _apply(account: TwilioAccount, fact: te.VoicemailLeft) -> None:
    telephony_apply(
        organization_id=account.organization_id,
        connection_key=connection_key(account),
        events=[fact],
    )


def _left(
    request: HttpRequest, kind: str, callback: Callback, **fields: object
) -> te.VoicemailLeft:
    return te.VoicemailLeft(
        call_key=callback.call_sid,
        at=callback.timestamp or timezone.now(),
        dedup_key=_dedup_key(request, kind, callback),
        source=CallSource.TWILIO,
        leg_id=callback.call_sid,
        **fields,  # type: ignore[arg-type]
    )


@webhook
def voicemail(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The voicemail exit of ``?queue=``: the prompt and the recording."""
    return HttpResponse(record_twiml(hints.queue), content_type="text/xml")


@webhook
def voicemail_done(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The ``<Record>``'s action: the message is over (or the caller hung up)."""
    try:
        sid, seconds = _recording_sid(request.POST), _seconds(request.POST)
    except InvalidCallback as exc:
        return _bad(exc)
    response = VoiceResponse()
    if sid:
        _apply(
            account, _left(request, "done", callback, recording_sid=sid, duration_seconds=seconds)
        )
        response.say(THANKS)
    else:
        response.say(NOTHING_HEARD)
    response.hangup()
    return _xml(response)


@webhook
def voicemail_recording(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The ``<Record>``'s recordingStatusCallback."""
    try:
        sid, seconds = _recording_sid(request.POST), _seconds(request.POST)
        status = _field(request.POST, "RecordingStatus").lower()
        if not sid or status not in _STATUSES:
            raise InvalidCallback("RecordingSid and a known RecordingStatus are required.")
    except InvalidCallback as exc:
        return _bad(exc)
    if status == "in-progress":
        return HttpResponse(status=204)  # nothing to keep until it is over
    failed = "" if status == "completed" else f"Twilio: {status}"
    fact = _left(
        request, "recording", callback, recording_sid=sid, duration_seconds=seconds, failed=failed
    )
    # Imported here: the media module imports this one (its RECORDING_SID).
    from telephony.twilio.voicemail_media import twilio_voicemail_fetch_enqueue

    with transaction.atomic():
        _apply(account, fact)
        if status == "completed":
            twilio_voicemail_fetch_enqueue(
                organization_id=account.organization_id, call_sid=callback.call_sid
            )
    return HttpResponse(status=204)


@webhook
def voicemail_transcription(
    request: HttpRequest, account: TwilioAccount, callback: Callback, hints: Hints
) -> HttpResponse:
    """The ``<Record>``'s transcribeCallback (a real form parser decodes ``+`` and
    ``%20`` alike: Django's)."""
    try:
        sid = _recording_sid(request.POST)
        status = _field(request.POST, "TranscriptionStatus").lower()
        text = _field(request.POST, "TranscriptionText", _TRANSCRIPTION_MAX)
        if status not in _TRANSCRIPTION_STATUSES:
            raise InvalidCallback("TranscriptionStatus is not a known status.")
    except InvalidCallback as exc:
        return _bad(exc)
    fact = _left(
        request,
        "transcription",
        callback,
        recording_sid=sid,
        transcription=text if status == "completed" else None,
        transcription_status=status,
    )
    _apply(account, fact)
    return HttpResponse(status=204)
