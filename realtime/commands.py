"""The agent console's commands: each one calls one service and returns the ack's result.

The consumer parses and serializes; what a command may touch is decided here, with
the same rules as the REST API: a call is the agent's when they are its agent, were
transferred it, or appear in its timeline; another organization's ids do not exist.
PBX commands go through contactcenter's call-control services, which reach the bridge
through the telephony port.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction

from contactcenter.errors import NotFound
from contactcenter.models import Agent, Call
from contactcenter.ports import PbxResult
from contactcenter.selectors.calls import agent_call, disposition_for
from contactcenter.services.call_control import agent_set_state, call_command, call_originate
from contactcenter.services.calls import call_set_disposition, call_update_notes
from contactcenter.services.recording_control import call_recording_pause, call_recording_start
from crm.selectors import notification_of_user
from crm.services import notification_mark_read
from realtime import protocol as p
from realtime.screens import render
from realtime.screens.snapshot import Caller


def outcome(result: PbxResult) -> dict[str, Any]:
    return {"ok": result.ok, "error": result.error, "message": result.message}


def _agent(caller: Caller) -> Agent:
    assert caller.agent is not None  # the agent stream only opens for agents
    return caller.agent


def _own_call(caller: Caller, call_id: int) -> Call:
    call = agent_call(organization_id=caller.organization_id, agent=_agent(caller), call_id=call_id)
    if call is None:
        raise NotFound("No such call.", field="call_id")
    return call


async def set_state(caller: Caller, data: p.SetState) -> dict[str, Any]:
    """The state, and the pause or unpause in the PBX's queues (``agent_set_state``):
    on a call the state stays the phone's, and the ack's ``agent`` says so."""
    agent, pbx = await agent_set_state(
        agent=_agent(caller),
        state=data.state,
        reason=data.reason,
        timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS,
    )
    return {
        "agent": render.agent_view(agent).dump(),
        "pbx": None if pbx is None else outcome(pbx),
    }


async def originate(caller: Caller, data: p.Originate) -> dict[str, Any]:
    result = await call_originate(
        agent=_agent(caller), number=data.number, timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS
    )
    return {"pbx": outcome(result), "call_key": (result.data or {}).get("call")}


async def _call_command(caller: Caller, call_id: int, command: str, **extra: str) -> PbxResult:
    call = await database_sync_to_async(_own_call)(caller, call_id)
    return await call_command(
        call=call,
        agent=_agent(caller),
        command=command,
        timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS,
        **extra,
    )


async def hangup(caller: Caller, data: p.Hangup) -> dict[str, Any]:
    return {"pbx": outcome(await _call_command(caller, data.call_id, "hangup"))}


async def transfer(caller: Caller, data: p.Transfer) -> dict[str, Any]:
    command = "blind_transfer" if data.kind == "blind" else "attended_transfer"
    result = await _call_command(caller, data.call_id, command, target=data.target)
    return {"pbx": outcome(result)}


async def recording_pause(caller: Caller, data: p.RecordingPause) -> dict[str, Any]:
    """Pause or resume the call's recording; the PBX's report changes the card."""
    call = await database_sync_to_async(_own_call)(caller, data.call_id)
    result = await call_recording_pause(
        call=call,
        agent=_agent(caller),
        paused=data.paused,
        timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS,
    )
    return {"pbx": outcome(result)}


async def recording_start(caller: Caller, data: p.RecordingStart) -> dict[str, Any]:
    """Record the call from now on, where the policy records on demand."""
    call = await database_sync_to_async(_own_call)(caller, data.call_id)
    result = await call_recording_start(
        call=call, agent=_agent(caller), timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS
    )
    return {"pbx": outcome(result)}


def _set_disposition(caller: Caller, data: p.SetDisposition) -> dict[str, Any]:
    call = _own_call(caller, data.call_id)
    disposition = None
    if data.disposition_id is not None:
        disposition = disposition_for(
            organization_id=caller.organization_id, disposition_id=data.disposition_id
        )
        if disposition is None:
            raise NotFound("No such disposition.", field="disposition_id")
    call = call_set_disposition(call=call, disposition=disposition, actor=caller.membership.user)
    return {"call": render.call_view(call).dump()}


def _set_notes(caller: Caller, data: p.SetNotes) -> dict[str, Any]:
    call = call_update_notes(
        call=_own_call(caller, data.call_id), notes=data.notes, actor=caller.membership.user
    )
    return {"call": render.call_view(call).dump()}


@transaction.atomic
def _mark_read(caller: Caller, data: p.MarkRead) -> dict[str, Any]:
    notification = notification_of_user(
        user_id=caller.membership.user_id,
        organization_id=caller.organization_id,
        notification_id=data.notification_id,
    )
    if notification is None:
        raise NotFound("No such notification.", field="notification_id")
    notification = notification_mark_read(notification=notification)
    return {"notification": render.notification_view(notification).dump()}


async def set_disposition(caller: Caller, data: p.SetDisposition) -> dict[str, Any]:
    return await database_sync_to_async(_set_disposition)(caller, data)


async def set_notes(caller: Caller, data: p.SetNotes) -> dict[str, Any]:
    return await database_sync_to_async(_set_notes)(caller, data)


async def mark_read(caller: Caller, data: p.MarkRead) -> dict[str, Any]:
    return await database_sync_to_async(_mark_read)(caller, data)


HANDLERS: dict[str, Any] = {
    "agent.set_state": set_state,
    "call.originate": originate,
    "call.hangup": hangup,
    "call.transfer": transfer,
    "call.set_disposition": set_disposition,
    "call.set_notes": set_notes,
    "call.recording_pause": recording_pause,
    "call.recording_start": recording_start,
    "notification.mark_read": mark_read,
}
