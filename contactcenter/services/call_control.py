"""Commands to the PBX on an agent's behalf: pause, originate, hang up, transfer.

The PBX is reached through the telephony port (``contactcenter.ports``), on the
organization's own connection and no other. Async: the answer comes from the bridge,
wherever it runs; database work goes to Django's thread.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from contactcenter.enums import AgentState
from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Call
from contactcenter.ports import PbxResult, telephony
from contactcenter.services import audit
from contactcenter.services.agents import agent_choose_state
from contactcenter.transitions import AGENT_WRAP_UP_PAUSE_REASON


class PbxFailed(ApplicationError):
    """The bridge answered no (or not at all); ``result`` is its answer."""

    def __init__(self, result: PbxResult) -> None:
        super().__init__(result.message or "The PBX refused the command.", code="pbx_failed")
        self.result = result


def no_pbx_error() -> ApplicationError:
    return ApplicationError("No PBX is connected for your organization.", code="no_pbx", status=409)


async def pbx_command_audited(
    command: str,
    organization_id: int,
    obj: Agent | Call,
    details: dict[str, object],
    result: PbxResult,
) -> None:
    """A command someone asked of the PBX, and whether it did it: the writes it leads to
    come back as the PBX's facts, audited as the PBX's, so this says who asked."""
    await database_sync_to_async(audit.record)(
        action=f"pbx.{command}",
        organization_id=organization_id,
        obj=obj,
        details={**details, "ok": result.ok},
    )


def _pause_reason(state: str, reason: str) -> str:
    if state == AgentState.WRAP_UP:
        return AGENT_WRAP_UP_PAUSE_REASON
    return reason.strip() if state == AgentState.PAUSED else ""


async def agent_set_state(
    *, agent: Agent, state: str, reason: str, timeout: float
) -> tuple[Agent, PbxResult | None]:
    """The state through ``agent_choose_state``; pause and unpause in the PBX's queues
    too (the PBX's answer, or ``None`` when nothing was asked of it).

    Wrap-up is a pause in the PBX (no call is offered during it), with a reason that
    reads back as wrap-up. On a call, the state stays the phone's and the pause or
    unpause is what the choice does, for after the call.
    """
    agent = await database_sync_to_async(agent_choose_state)(
        agent=agent, state=state, reason=reason
    )
    if state not in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP):
        return agent, None
    port = telephony()
    if port is None:
        return agent, None
    key = await database_sync_to_async(port.command_connection)(agent.organization_id)
    if key is None or not agent.interface:
        return agent, None
    params = {
        "agent": agent.interface,
        "paused": state != AgentState.AVAILABLE,
        "reason": _pause_reason(state, reason),
    }
    result = await port.command(agent.organization_id, key, "queue_pause", params, timeout=timeout)
    return agent, result


async def call_originate(
    *, agent: Agent, number: str, timeout: float, callback_id: int | None = None
) -> PbxResult:
    """A call from the agent's phone to ``number``; refused: ``PbxFailed``.

    ``callback_id``: the call is placed for that callback, by the connection that places
    the organization's callbacks (``TelephonyPort.callback_connection``: Twilio's REST
    API where its account has a caller ID, else the PBX of its commands)."""
    port = telephony()
    if port is None:
        raise no_pbx_error()
    connection = port.command_connection if callback_id is None else port.callback_connection
    key = await database_sync_to_async(connection)(agent.organization_id)
    if key is None:
        raise no_pbx_error()
    params = {"agent": agent.interface, "number": number}
    details: dict[str, object] = {"number": number}
    if callback_id is not None:
        params |= {"agent_id": str(agent.pk), "callback": str(callback_id)}
        details["callback"] = callback_id
    result = await port.command(agent.organization_id, key, "originate", params, timeout=timeout)
    await pbx_command_audited("originate", agent.organization_id, agent, details, result)
    if not result.ok:
        raise PbxFailed(result)
    return result


async def call_command(
    *, call: Call, agent: Agent, command: str, timeout: float, **extra: str
) -> PbxResult:
    """``command`` (hangup, blind_transfer, attended_transfer...) on ``call``, sent to
    the connection that reported it; refused: ``PbxFailed``. ``call`` is one the agent
    may act on (the caller checked)."""
    port = telephony()
    if port is None or not port.reaches_bridge(call.connection_key):
        raise no_pbx_error()
    params = {"call": call.external_id, "agent": agent.interface, **extra}
    result = await port.command(
        call.organization_id, call.connection_key, command, params, timeout=timeout
    )
    await pbx_command_audited(
        command, call.organization_id, call, {"agent": agent.pk, **extra}, result
    )
    if not result.ok:
        raise PbxFailed(result)
    return result
