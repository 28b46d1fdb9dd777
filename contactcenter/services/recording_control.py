"""Pausing and resuming a call's recording on the agent's behalf (card numbers read
over the phone are not recorded). The PBX reports the pause back (``MixMonitorMute``),
and that report is what changes the recording and its timeline."""

from __future__ import annotations

from channels.db import database_sync_to_async

from contactcenter.enums import RecordingStatus
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call, Recording
from contactcenter.ports import PbxResult
from contactcenter.services.call_control import call_command


def _recorded(call: Call) -> bool:
    return (
        Recording.objects.for_organization(call.organization_id)
        .filter(call=call, status__in=(RecordingStatus.RECORDING, RecordingStatus.PAUSED))
        .exists()
    )


async def call_recording_pause(
    *, call: Call, agent: Agent, paused: bool, timeout: float
) -> PbxResult:
    """Pause (``paused``) or resume the recording of ``call``, one the agent may act on
    (the caller checked). Refused with ``not_recording`` when nothing records it: the
    PBX would answer yes to a pause of nothing. Audited as ``pbx.recording_pause``."""
    if not await database_sync_to_async(_recorded)(call):
        raise ApplicationError("This call is not being recorded.", code="not_recording", status=409)
    return await call_command(
        call=call,
        agent=agent,
        command="recording_pause",
        timeout=timeout,
        paused="true" if paused else "false",
    )
