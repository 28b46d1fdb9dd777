"""Starting, pausing and resuming a call's recording on the agent's behalf (card numbers
read over the phone are not recorded). The PBX reports the pause back (Asterisk's
``MixMonitorMute``; Twilio's answer to the REST request), and that report is what
changes the recording and its timeline."""

from __future__ import annotations

from channels.db import database_sync_to_async

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call, Recording
from contactcenter.ports import PbxResult, telephony
from contactcenter.services.call_control import PbxFailed, no_pbx_error, pbx_command_audited


def _open_recording(call: Call) -> Recording | None:
    recording: Recording | None = (
        Recording.objects.for_organization(call.organization_id)
        .filter(call=call, status__in=(RecordingStatus.RECORDING, RecordingStatus.PAUSED))
        .order_by("-started_at", "-pk")
        .first()
    )
    return recording


def _recorded(call: Call) -> bool:
    return _open_recording(call) is not None


async def _recording_command(
    *, call: Call, agent: Agent, command: str, timeout: float, **extra: str
) -> PbxResult:
    """``call_command`` for the recording's commands, which reach a Twilio call too
    (over REST: the port's ``records``); the agent's client identity goes along."""
    port = telephony()
    if port is None or not port.records(call.connection_key):
        raise no_pbx_error()
    params = {
        "call": call.external_id,
        "agent": agent.interface,
        "identity": f"client:{agent.twilio_identity}",
        **extra,
    }
    result = await port.command(
        call.organization_id, call.connection_key, command, params, timeout=timeout
    )
    await pbx_command_audited(
        command, call.organization_id, call, {"agent": agent.pk, **extra}, result
    )
    if not result.ok:
        raise PbxFailed(result)
    return result


def _policy_allows(call: Call) -> str:
    """'' when the call may be recorded on demand now, else the refusal's code."""
    if _recorded(call):
        return "already_recording"
    queue_policy = call.queue.recording_policy if call.queue is not None else ""
    policy = queue_policy or call.organization.recording_policy
    return "" if policy in (RecordingPolicy.ON_DEMAND, RecordingPolicy.ALL) else "recording_off"


async def call_recording_start(*, call: Call, agent: Agent, timeout: float) -> PbxResult:
    """Start recording ``call`` (one the agent may act on: the caller checked) where
    its queue's or organization's policy records on demand (or all, and nothing records
    it yet). Refused with ``recording_off`` or ``already_recording``. The PBX's reports
    make the recording (contactcenter/services/recordings.py). Audited as
    ``pbx.recording_start``."""
    call = await database_sync_to_async(
        lambda: Call.objects.select_related("queue", "organization").get(pk=call.pk)
    )()
    refused = await database_sync_to_async(_policy_allows)(call)
    if refused == "already_recording":
        raise ApplicationError("This call is already recorded.", code=refused, status=409)
    if refused:
        raise ApplicationError("Calls here are not recorded.", code=refused, status=409)
    return await _recording_command(
        call=call,
        agent=agent,
        command="recording_start",
        timeout=timeout,
        organization=str(call.organization_id),
    )


async def call_recording_pause(
    *, call: Call, agent: Agent, paused: bool, timeout: float
) -> PbxResult:
    """Pause (``paused``) or resume the recording of ``call``, one the agent may act on
    (the caller checked). Refused with ``not_recording`` when nothing records it: the
    PBX would answer yes to a pause of nothing. Audited as ``pbx.recording_pause``."""
    recording = await database_sync_to_async(_open_recording)(call)
    if recording is None:
        raise ApplicationError("This call is not being recorded.", code="not_recording", status=409)
    return await _recording_command(
        call=call,
        agent=agent,
        command="recording_pause",
        timeout=timeout,
        paused="true" if paused else "false",
        recording=recording.leg_id,
    )
