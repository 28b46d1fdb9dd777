"""The supervisor's commands on the wallboard stream: each calls one supervision service.

The stream opens for supervisors and admins only; the services check the role again,
and the ids are looked up in the caller's organization (another's do not exist).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from contactcenter.models import Agent, Call, CallQueue
from contactcenter.selectors.supervision import floor_agent, floor_call, floor_queue
from contactcenter.services import supervision
from realtime import protocol as p
from realtime.commands import outcome
from realtime.screens import render
from realtime.screens.snapshot import Caller


def _timeout() -> float:
    return float(settings.REALTIME_PBX_TIMEOUT_SECONDS)


async def _agent(caller: Caller, agent_id: int) -> Agent:
    return await database_sync_to_async(floor_agent)(
        organization_id=caller.organization_id, agent_id=agent_id
    )


async def _queue(caller: Caller, queue_id: int) -> CallQueue:
    return await database_sync_to_async(floor_queue)(
        organization_id=caller.organization_id, queue_id=queue_id
    )


async def pause(caller: Caller, data: p.AgentPause) -> dict[str, Any]:
    agent, result = await supervision.supervisor_agent_pause(
        supervisor=caller.membership,
        agent=await _agent(caller, data.agent_id),
        paused=data.paused,
        reason=data.reason,
        timeout=_timeout(),
    )
    return {
        "agent": render.agent_view(agent).dump(),
        "pbx": None if result is None else outcome(result),
    }


async def log_out(caller: Caller, data: p.AgentLogOut) -> dict[str, Any]:
    results = await supervision.supervisor_agent_log_out(
        supervisor=caller.membership, agent=await _agent(caller, data.agent_id), timeout=_timeout()
    )
    return {"pbx": [outcome(result) for result in results]}


async def queue_add(caller: Caller, data: p.QueueAdd) -> dict[str, Any]:
    result = await supervision.supervisor_queue_add(
        supervisor=caller.membership,
        agent=await _agent(caller, data.agent_id),
        queue=await _queue(caller, data.queue_id),
        penalty=data.penalty,
        timeout=_timeout(),
    )
    return {"pbx": outcome(result)}


async def queue_remove(caller: Caller, data: p.QueueRemove) -> dict[str, Any]:
    result = await supervision.supervisor_queue_remove(
        supervisor=caller.membership,
        agent=await _agent(caller, data.agent_id),
        queue=await _queue(caller, data.queue_id),
        timeout=_timeout(),
    )
    return {"pbx": outcome(result)}


async def _call(caller: Caller, call_id: int) -> Call:
    return await database_sync_to_async(floor_call)(
        organization_id=caller.organization_id, call_id=call_id
    )


async def force_hangup(caller: Caller, data: p.ForceHangup) -> dict[str, Any]:
    result = await supervision.supervisor_call_hang_up(
        supervisor=caller.membership, call=await _call(caller, data.call_id), timeout=_timeout()
    )
    return {"pbx": outcome(result)}


async def monitor(caller: Caller, data: p.Monitor) -> dict[str, Any]:
    result = await supervision.supervisor_monitor(
        supervisor=caller.membership,
        call=await _call(caller, data.call_id),
        mode=data.mode,
        timeout=_timeout(),
    )
    return {"pbx": outcome(result), "session": (result.data or {}).get("session")}


async def monitor_stop(caller: Caller, data: p.MonitorStop) -> dict[str, Any]:
    result = await supervision.supervisor_monitor_stop(
        supervisor=caller.membership, call=await _call(caller, data.call_id), timeout=_timeout()
    )
    return {"pbx": outcome(result)}


async def move(caller: Caller, data: p.MoveCall) -> dict[str, Any]:
    call = await _call(caller, data.call_id)
    if data.queue_id is not None:
        result = await supervision.supervisor_call_move_to_queue(
            supervisor=caller.membership,
            call=call,
            queue=await _queue(caller, data.queue_id),
            timeout=_timeout(),
        )
        return {"pbx": outcome(result)}
    assert data.agent_id is not None  # MoveCall holds one of them
    result = await supervision.supervisor_call_move(
        supervisor=caller.membership,
        call=call,
        agent=await _agent(caller, data.agent_id),
        timeout=_timeout(),
    )
    return {"pbx": outcome(result)}


HANDLERS: dict[str, Any] = {
    "agent.pause": pause,
    "agent.log_out": log_out,
    "agent.queue_add": queue_add,
    "agent.queue_remove": queue_remove,
    "call.force_hangup": force_hangup,
    "call.monitor": monitor,
    "call.monitor_stop": monitor_stop,
    "call.move": move,
}
