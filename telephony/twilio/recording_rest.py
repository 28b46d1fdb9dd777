"""Recording a Twilio call on demand, and pausing it, over Twilio's REST API.

The console's ``call.recording_start`` and ``call.recording_pause`` reach a Twilio call
through the telephony port's desk (telephony/twilio/desk.py), which runs these here:

- start: ``POST /Calls/{CallSid}/Recordings.json`` (both channels), reporting to our
  recording webhook with the agent in its URL, as a ``<Dial record>`` does;
- pause / resume: ``POST /Calls/{CallSid}/Recordings/{RecordingSid}.json`` with
  ``Status=paused`` (``PauseBehavior=skip``: nothing is recorded meanwhile) or
  ``Status=in-progress``.

Twilio sends no callback for a pause, so its answer is the PBX's word: the desk then
applies the fact (``RecordingMuted``), as the bridge applies Asterisk's MixMonitorMute.
A start is applied at once too (the row exists before the first callback, which then
repeats what is known under the same keys).
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from twilio.http import HttpClient

from contactcenter import facts as te
from contactcenter.enums import CallSource
from contactcenter.ports import PbxResult
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio.actions import ActionResult, _client, _run
from telephony.twilio.callbacks import Hints, webhook_url
from telephony.twilio.recording_status import (
    RECORDING_EVENTS,
    RECORDING_SID,
    RecordingCallback,
    recording_facts,
    recording_key,
)


def recording_start(
    account: TwilioAccount, call_sid: str, *, agent: str, http_client: HttpClient | None = None
) -> ActionResult:
    """Start recording the call (both channels); ``call_sid`` of the ActionResult is the
    new RecordingSid. Needs PUBLIC_URL (where Twilio reports the recording)."""
    if not settings.PUBLIC_URL:
        return ActionResult(ok=False, message="PUBLIC_URL is not set: Twilio cannot report.")

    def command() -> ActionResult:
        recording = (
            _client(account, http_client)
            .calls(call_sid)
            .recordings.create(
                recording_status_callback=webhook_url(
                    settings.PUBLIC_URL, "recording-status", Hints(agent=agent)
                ),
                recording_status_callback_event=RECORDING_EVENTS.split(),
                recording_status_callback_method="POST",
                recording_channels="dual",
            )
        )
        return ActionResult(ok=True, call_sid=str(recording.sid or ""))

    result = _run("recording start", account, command)
    if result.ok and not RECORDING_SID.match(result.call_sid):
        return ActionResult(ok=False, message="Twilio answered no recording SID.")
    return result


def recording_pause(
    account: TwilioAccount,
    call_sid: str,
    *,
    recording_sid: str,
    paused: bool,
    http_client: HttpClient | None = None,
) -> ActionResult:
    """Pause (nothing recorded meanwhile) or resume the call's recording."""
    if not RECORDING_SID.match(recording_sid):
        return ActionResult(ok=False, message="That is not a Twilio recording.")

    def command() -> ActionResult:
        recordings = _client(account, http_client).calls(call_sid).recordings(recording_sid)
        if paused:
            recordings.update(status="paused", pause_behavior="skip")
        else:
            recordings.update(status="in-progress")
        return ActionResult(ok=True, call_sid=recording_sid)

    return _run("recording pause" if paused else "recording resume", account, command)


def started_facts(
    *, call_sid: str, recording_sid: str, agent: str, media_format: str, now: datetime
) -> list[te.CallFact]:
    """What a started recording is, before Twilio's first callback says it again."""
    started = RecordingCallback(
        recording_sid=recording_sid, status="in-progress", call_sid=call_sid
    )
    return recording_facts(started, Hints(agent=agent), media_format=media_format, now=now)


def muted_fact(*, call_sid: str, recording_sid: str, paused: bool, now: datetime) -> te.CallFact:
    """The pause (or resume) Twilio accepted, as Asterisk's MixMonitorMute would be."""
    word = "paused" if paused else "resumed"
    return te.RecordingMuted(
        call_key=call_sid,
        at=now,
        dedup_key=f"{recording_key(call_sid, recording_sid)}:{word}:{now.isoformat()}",
        source=CallSource.TWILIO,
        leg_id=recording_sid,
        muted=paused,
    )


COMMANDS = frozenset({"recording_start", "recording_pause"})
_PREFIX = "twilio:"


def _enabled_account(organization_id: int, connection_key: str) -> TwilioAccount | None:
    return (
        TwilioAccount.objects.filter(
            organization_id=organization_id,
            account_sid=connection_key.removeprefix(_PREFIX),
            is_enabled=True,
        )
        .order_by("pk")
        .first()
    )


async def recording_command(
    organization_id: int,
    connection_key: str,
    command: str,
    params: dict[str, Any],
    *,
    timeout: float,
) -> PbxResult:
    """The desk's ``recording_start`` (``call``: the CallSid, ``identity``: the agent's
    client name) and ``recording_pause`` (``call``, ``recording``: the RecordingSid,
    ``paused``: "true" or "false"): asked of Twilio, then what Twilio accepted applied
    as the call's recording facts (timeline, audit as the PBX's)."""
    call_sid, identity = str(params.get("call", "")), str(params.get("identity", ""))
    recording_sid, paused = str(params.get("recording", "")), str(params.get("paused", ""))
    if not call_sid or (command == "recording_pause" and paused not in ("true", "false")):
        return PbxResult(ok=False, error="bad_request", message="'call' (and 'paused') needed.")
    account = await database_sync_to_async(_enabled_account)(organization_id, connection_key)
    if account is None:
        return PbxResult(
            ok=False, error="no_pbx", message="The organization's Twilio account is not enabled."
        )
    if command == "recording_start":
        run = functools.partial(recording_start, account, call_sid, agent=identity)
    else:
        run = functools.partial(
            recording_pause, account, call_sid, recording_sid=recording_sid, paused=paused == "true"
        )
    try:
        result: ActionResult = await asyncio.wait_for(asyncio.to_thread(run), timeout)
    except TimeoutError:
        return PbxResult(ok=False, error="timeout", message="Twilio did not answer in time.")
    if not result.ok:
        return PbxResult(ok=False, error="refused", message=result.message)
    now = timezone.now()
    if command == "recording_start":
        facts = started_facts(
            call_sid=call_sid,
            recording_sid=result.call_sid,
            agent=identity,
            media_format=settings.TWILIO_RECORDINGS_FORMAT,
            now=now,
        )
    else:
        facts = [
            muted_fact(
                call_sid=call_sid, recording_sid=recording_sid, paused=paused == "true", now=now
            )
        ]
    await database_sync_to_async(telephony_apply)(
        organization_id=organization_id, connection_key=connection_key, events=facts
    )
    return PbxResult(ok=True, data={"recording": result.call_sid})
