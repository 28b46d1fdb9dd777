"""The agent console's commands: each one calls one service and returns the ack's result.

The consumer parses and serializes; what a command may touch is decided here, with
the same rules as the REST API: a call is the agent's when they are its agent, were
transferred it, or appear in its timeline; another organization's ids do not exist.
PBX commands go to the bridge with ``telephony.pbx.pbx_command``.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from contactcenter.enums import AgentState
from contactcenter.errors import ApplicationError, NotFound
from contactcenter.models import Agent, Call, CallDisposition, CallEvent, CallTransfer
from contactcenter.services.agents import agent_choose_state
from contactcenter.services.calls import call_set_disposition, call_update_notes
from contactcenter.transitions import AGENT_WRAP_UP_PAUSE_REASON
from crm.selectors import notification_list_for_user
from crm.services import notification_mark_read
from realtime import protocol as p
from realtime import render
from realtime.snapshot import Caller
from telephony.pbx import PbxResult, organization_pbx, pbx_command, reaches_bridge


class PbxFailed(ApplicationError):
    """The bridge answered no (or not at all); the error frame carries its answer."""

    def __init__(self, result: PbxResult) -> None:
        super().__init__(result.message or "The PBX refused the command.", code="pbx_failed")
        self.result = result


def _outcome(result: PbxResult) -> dict[str, Any]:
    return {"ok": result.ok, "error": result.error, "message": result.message}


def _agent(caller: Caller) -> Agent:
    assert caller.agent is not None  # the agent stream only opens for agents
    return caller.agent


async def _pbx(
    caller: Caller, connection_key: str, command: str, params: dict[str, Any]
) -> PbxResult:
    """To the caller's own organization's bridge of that connection, and no other."""
    return await pbx_command(
        caller.organization_id,
        connection_key,
        command,
        params,
        timeout=settings.REALTIME_PBX_TIMEOUT_SECONDS,
    )


def _own_call(caller: Caller, call_id: int) -> Call:
    agent = _agent(caller)
    transferred = CallTransfer.objects.filter(Q(from_agent=agent) | Q(to_agent=agent))
    named = CallEvent.objects.filter(agent=agent)
    call = (
        Call.objects.for_organization(caller.organization_id)
        .filter(pk=call_id)
        .filter(
            Q(agent=agent)
            | Q(pk__in=transferred.values("call_id"))
            | Q(pk__in=named.values("call_id"))
        )
        .first()
    )
    if call is None:
        raise NotFound("No such call.", field="call_id")
    return call


def _no_pbx() -> ApplicationError:
    return ApplicationError("No PBX is connected for your organization.", code="no_pbx", status=409)


def _pause_reason(data: p.SetState) -> str:
    if data.state == AgentState.WRAP_UP:
        return AGENT_WRAP_UP_PAUSE_REASON
    return data.reason.strip() if data.state == AgentState.PAUSED else ""


async def set_state(caller: Caller, data: p.SetState) -> dict[str, Any]:
    """The state through agent_choose_state; pause and unpause in the PBX's queues too.

    Wrap-up is a pause in the PBX (no call is offered during it), with a reason that
    reads back as wrap-up. On a call, the state stays the phone's (the ack's ``agent``
    says so) and the pause or unpause is what the choice does, for after the call.
    """
    agent = await database_sync_to_async(agent_choose_state)(
        agent=_agent(caller), state=data.state, reason=data.reason
    )
    result: dict[str, Any] = {"agent": render.agent_view(agent).dump(), "pbx": None}
    if data.state in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP):
        key = await database_sync_to_async(organization_pbx)(caller.organization_id)
        if key is not None and agent.interface:
            params = {
                "agent": agent.interface,
                "paused": data.state != AgentState.AVAILABLE,
                "reason": _pause_reason(data),
            }
            result["pbx"] = _outcome(await _pbx(caller, key, "queue_pause", params))
    return result


async def originate(caller: Caller, data: p.Originate) -> dict[str, Any]:
    key = await database_sync_to_async(organization_pbx)(caller.organization_id)
    if key is None:
        raise _no_pbx()
    params = {"agent": _agent(caller).interface, "number": data.number}
    result = await _pbx(caller, key, "originate", params)
    if not result.ok:
        raise PbxFailed(result)
    return {"pbx": _outcome(result), "call_key": (result.data or {}).get("call")}


async def _call_command(caller: Caller, call_id: int, command: str, **extra: str) -> PbxResult:
    call = await database_sync_to_async(_own_call)(caller, call_id)
    if not reaches_bridge(call.connection_key):
        raise _no_pbx()
    params = {"call": call.external_id, "agent": _agent(caller).interface, **extra}
    result = await _pbx(caller, call.connection_key, command, params)
    if not result.ok:
        raise PbxFailed(result)
    return result


async def hangup(caller: Caller, data: p.Hangup) -> dict[str, Any]:
    return {"pbx": _outcome(await _call_command(caller, data.call_id, "hangup"))}


async def transfer(caller: Caller, data: p.Transfer) -> dict[str, Any]:
    command = "blind_transfer" if data.kind == "blind" else "attended_transfer"
    result = await _call_command(caller, data.call_id, command, target=data.target)
    return {"pbx": _outcome(result)}


def _set_disposition(caller: Caller, data: p.SetDisposition) -> dict[str, Any]:
    call = _own_call(caller, data.call_id)
    disposition = None
    if data.disposition_id is not None:
        scope = CallDisposition.objects.for_organization(caller.organization_id)
        disposition = scope.filter(pk=data.disposition_id).first()
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
    notifications = notification_list_for_user(
        user_id=caller.membership.user_id, organization_id=caller.organization_id
    )
    notification = notifications.filter(pk=data.notification_id).first()
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
    "notification.mark_read": mark_read,
}
