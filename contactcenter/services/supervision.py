"""A supervisor's hand on the floor: pause, log out, queue membership, a stuck call;
listening to, whispering to and barging into agents' calls.

Each action is asked of the organization's PBX through the telephony port and
refused (``PbxFailed``) when the PBX says no; what the PBX then does comes back as
its facts (QueueMemberPause, QueueMemberRemoved, Hangup...) and moves the agent's
state and the call as any other report does. Where we route the queues ourselves
(Twilio's), the same commands go to that routing (telephony/twilio/managing.py),
which acts on its own state and on the live call over Twilio's REST API; an agent's
pause and log-out are then their chosen state. Only supervisors and admins of the
agent's, queue's or call's own organization may act (``_check``); the caller looked
the object up in that organization, this is the second lock. Every request is
audited as ``pbx.<command>`` with whether the PBX did it.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from contactcenter.enums import AgentState, CallSource, CallStatus
from contactcenter.errors import ApplicationError, NotFound, PermissionDenied
from contactcenter.models import Agent, Call, CallQueue, Membership, QueueMembership
from contactcenter.ports import PbxResult, telephony
from contactcenter.selectors.access import agent_for_membership, is_floor_role
from contactcenter.services.agents import agent_choose_state
from contactcenter.services.call_control import PbxFailed, no_pbx_error, pbx_command_audited
from contactcenter.services.monitoring import monitor_mode_changed, session_mode
from contactcenter.transitions import ACTIVE_CALL_STATUSES


def _check(supervisor: Membership, *objects: Agent | CallQueue | Call) -> None:
    if not is_floor_role(supervisor.role):
        raise PermissionDenied("Only supervisors and admins may do this.")
    if any(obj.organization_id != supervisor.organization_id for obj in objects):
        # Looked up in the caller's organization already: another's ids do not exist.
        raise NotFound()


async def _connection(organization_id: int) -> str | None:
    port = telephony()
    if port is None:
        return None
    return await database_sync_to_async(port.command_connection)(organization_id)


async def _routing(organization_id: int) -> str | None:
    """Where no PBX takes the organization's commands: the connection whose queues we
    route ourselves (Twilio's), which acts on the routing's own state."""
    port = telephony()
    if port is None:
        return None
    return await database_sync_to_async(port.routing_connection)(organization_id)


async def _ask(
    agent: Agent, key: str, command: str, params: dict[str, Any], timeout: float
) -> PbxResult:
    port = telephony()
    assert port is not None  # a key came from it
    result = await port.command(agent.organization_id, key, command, params, timeout=timeout)
    await pbx_command_audited(command, agent.organization_id, agent, params, result)
    return result


async def supervisor_agent_pause(
    *, supervisor: Membership, agent: Agent, paused: bool, reason: str, timeout: float
) -> tuple[Agent, PbxResult | None]:
    """Pause ``agent`` in all their queues (with ``reason``) or unpause them.

    With a PBX, the PBX first: refused, nothing changes (``PbxFailed``). Then the
    agent's chosen state, as if they had picked it (``agent_choose_state``: on a
    call the phone's state stays and the pause applies after it).
    """
    _check(supervisor, agent)
    reason = reason.strip()
    if paused and not reason:
        raise ApplicationError("A pause needs a reason.", field="reason")
    result = None
    params: dict[str, Any] = {
        "agent": agent.interface,
        "paused": paused,
        "reason": reason if paused else "",
    }
    key = await _connection(agent.organization_id)
    if key is None:  # the routing's own state: the agent's, written below
        key = await _routing(agent.organization_id)
        params["agent_id"] = agent.pk
    if key is not None and agent.interface:
        result = await _ask(agent, key, "queue_pause", params, timeout)
        if not result.ok:
            raise PbxFailed(result)
    state = AgentState.PAUSED if paused else AgentState.AVAILABLE
    agent = await database_sync_to_async(agent_choose_state)(
        agent=agent, state=state, reason=reason if paused else ""
    )
    return agent, result


def _logged_in_queues(agent: Agent) -> list[str]:
    return list(
        QueueMembership.objects.filter(agent=agent, is_logged_in=True)
        .order_by("queue__pbx_queue_name")
        .values_list("queue__pbx_queue_name", flat=True)
    )


async def supervisor_agent_log_out(
    *, supervisor: Membership, agent: Agent, timeout: float
) -> list[PbxResult]:
    """Log ``agent`` out: removed from every queue they are logged in to (QueueRemove
    each; the PBX's QueueMemberRemoved then makes them offline). Every queue is
    tried; the first refusal is raised (``PbxFailed``) after the others were asked.
    Without a PBX the agent is simply set offline (refused while on a call); where we
    route the queues (Twilio's), that state is the routing's: offline, they are offered
    no caller until they choose to be available again."""
    _check(supervisor, agent)
    key = await _connection(agent.organization_id)
    if key is None or not agent.interface:
        await database_sync_to_async(agent_choose_state)(agent=agent, state=AgentState.OFFLINE)
        routing = await _routing(agent.organization_id)
        if routing is None:
            return []
        offline: dict[str, Any] = {"agent": agent.interface, "agent_id": agent.pk}
        result = await _ask(agent, routing, "log_out", offline, timeout)
        if not result.ok:
            raise PbxFailed(result)
        return [result]
    results = []
    for queue in await database_sync_to_async(_logged_in_queues)(agent):
        params: dict[str, Any] = {"agent": agent.interface, "queue": queue}
        results.append(await _ask(agent, key, "queue_remove", params, timeout))
    refused = next((result for result in results if not result.ok), None)
    if refused is not None:
        raise PbxFailed(refused)
    return results


async def _membership_connection(agent: Agent, queue: CallQueue) -> tuple[str, dict[str, Any]]:
    """The connection that keeps the agent's queue memberships (the PBX's, else our
    routing's), and the command's parameters."""
    params: dict[str, Any] = {"agent": agent.interface, "queue": queue.pbx_queue_name}
    key = await _connection(agent.organization_id)
    if key is None:
        key = await _routing(agent.organization_id)
        params["agent_id"] = agent.pk
    if key is None or not agent.interface:
        raise no_pbx_error()
    return key, params


@transaction.atomic
def _keep_penalty(agent: Agent, queue: CallQueue, penalty: int) -> None:
    # The agent's row first, as the bridge's writer locks it before the memberships:
    # the membership it may be creating from the PBX's QueueMemberAdded is not raced.
    Agent.objects.select_for_update().filter(pk=agent.pk).first()
    QueueMembership.objects.update_or_create(
        organization_id=agent.organization_id,
        queue=queue,
        agent=agent,
        defaults={"penalty": penalty},
    )


async def supervisor_queue_add(
    *, supervisor: Membership, agent: Agent, queue: CallQueue, penalty: int, timeout: float
) -> PbxResult:
    """Add ``agent`` to ``queue`` in the PBX with ``penalty`` (QueueAdd); the penalty is
    kept on the membership once the PBX took it."""
    _check(supervisor, agent, queue)
    if not 0 <= penalty <= 1000:
        raise ApplicationError("The penalty is a whole number from 0 to 1000.", field="penalty")
    key, params = await _membership_connection(agent, queue)
    params["penalty"] = penalty
    result = await _ask(agent, key, "queue_add", params, timeout)
    if not result.ok:
        raise PbxFailed(result)
    await database_sync_to_async(_keep_penalty)(agent, queue, penalty)
    return result


async def supervisor_queue_remove(
    *, supervisor: Membership, agent: Agent, queue: CallQueue, timeout: float
) -> PbxResult:
    """Remove ``agent`` from ``queue`` in the PBX (QueueRemove)."""
    _check(supervisor, agent, queue)
    key, params = await _membership_connection(agent, queue)
    result = await _ask(agent, key, "queue_remove", params, timeout)
    if not result.ok:
        raise PbxFailed(result)
    return result


async def supervisor_call_hang_up(
    *, supervisor: Membership, call: Call, timeout: float
) -> PbxResult:
    """Hang up ``call`` whoever is on it (its first live channel, the caller's: the
    others follow), on the connection that reported it. For a call stuck on an agent."""
    _check(supervisor, call)
    port = telephony()
    if port is None or not port.manages(call.connection_key):
        raise no_pbx_error()
    params = {"call": call.external_id}
    result = await port.command(
        call.organization_id, call.connection_key, "hangup_call", params, timeout=timeout
    )
    await pbx_command_audited("hangup_call", call.organization_id, call, {}, result)
    if not result.ok:
        raise PbxFailed(result)
    return result


def _profile(supervisor: Membership) -> Agent:
    """The supervisor's own agent profile: their phone (its interface; on Twilio, its
    client identity)."""
    profile = agent_for_membership(supervisor)
    if profile is None or not profile.interface:
        raise ApplicationError(
            "You need a phone to monitor calls: ask an admin to give you an agent profile "
            "with your phone's extension.",
            code="no_phone",
            status=409,
        )
    return profile


def _phone(supervisor: Membership) -> str:
    return _profile(supervisor).interface


def _twilio_params(call: Call, profile: Agent) -> dict[str, object]:
    """What a Twilio call's monitoring needs beyond the bridge's: the customer's CallSid
    (its conference is found from it) and the supervisor's client identity."""
    if call.source != CallSource.TWILIO:
        return {}
    return {"call": call.external_id, "identity": profile.twilio_identity}


async def _monitored(supervisor: Membership, call: Call) -> tuple[str, str]:
    """(the supervisor's phone, the agent's device) for monitoring ``call``."""
    _check(supervisor, call)
    phone = await database_sync_to_async(_phone)(supervisor)
    port = telephony()
    if port is None or not port.monitors(call.connection_key):
        raise no_pbx_error()
    agent = await database_sync_to_async(lambda: call.agent)()
    if call.status not in ACTIVE_CALL_STATUSES or agent is None or not agent.interface:
        raise ApplicationError("That call has no agent talking on it.", code="not_live", status=409)
    if agent.interface == phone:
        raise ApplicationError("That is your own call.", code="own_call", status=409)
    return phone, agent.interface


async def supervisor_monitor(
    *, supervisor: Membership, call: Call, mode: str, timeout: float
) -> PbxResult:
    """Ring the supervisor's own phone to listen to, whisper to (the agent only) or barge
    into ``call`` (ChanSpy on the agent's channel). With a monitoring call of theirs
    already live on it, the mode switches within that call where the PBX takes it
    (ChanSpy's keys, pressed for the supervisor: ``monitor_mode``; the switch is recorded
    as ``monitor.mode_changed``); where it does not, that call is hung up and a new one
    rings. The sessions are on the call's timeline as the PBX reports them
    (contactcenter/services/monitoring.py).
    """
    phone, agent = await _monitored(supervisor, call)
    port = telephony()
    assert port is not None  # _monitored checked
    key = call.connection_key
    profile = await database_sync_to_async(_profile)(supervisor)
    twilio = _twilio_params(call, profile)
    if not twilio:  # Twilio switches the live session's mode itself
        switched = await _switch(supervisor, call, phone, mode, timeout)
        if switched is not None:
            return switched
        stop: dict[str, object] = {"phone": phone}
        await port.command(call.organization_id, key, "monitor_stop", stop, timeout=timeout)
    params = {"call": call.external_id, "agent": agent, "phone": phone, "mode": mode, **twilio}
    result = await port.command(call.organization_id, key, "monitor", params, timeout=timeout)
    details: dict[str, object] = {"mode": mode, "agent": agent, "phone": phone}
    await pbx_command_audited("monitor", call.organization_id, call, details, result)
    if not result.ok:
        raise PbxFailed(result)
    data = result.data or {}
    if twilio and data.get("switched") and data.get("session"):
        # Twilio updated the session's participant: the same monitoring call, switched.
        await database_sync_to_async(_switched)(call, str(data["session"]), mode, phone, supervisor)
    return result


def _switched(call: Call, session: str, mode: str, phone: str, supervisor: Membership) -> None:
    previous = session_mode(call=call, session=session)
    monitor_mode_changed(
        call=call, session=session, mode=mode, previous=previous, phone=phone, supervisor=supervisor
    )


async def _switch(
    supervisor: Membership, call: Call, phone: str, mode: str, timeout: float
) -> PbxResult | None:
    """Switch the supervisor's live session on ``call`` to ``mode`` in the same
    monitoring call; None when they have none there, or the PBX would not."""
    port = telephony()
    assert port is not None  # the caller checked
    params: dict[str, object] = {"call": call.external_id, "phone": phone, "mode": mode}
    result = await port.command(
        call.organization_id, call.connection_key, "monitor_mode", params, timeout=timeout
    )
    if result.error == "invalid":  # no live session of theirs on that call: ring anew
        return None
    await pbx_command_audited("monitor_mode", call.organization_id, call, params, result)
    data = result.data or {}
    if not result.ok or not data.get("session"):
        return None
    await database_sync_to_async(monitor_mode_changed)(
        call=call,
        session=str(data["session"]),
        mode=mode,
        previous=str(data.get("from") or ""),
        phone=phone,
        supervisor=supervisor,
    )
    return result


async def supervisor_monitor_stop(
    *, supervisor: Membership, call: Call, timeout: float
) -> PbxResult:
    """Hang up the supervisor's monitoring call on ``call``'s PBX."""
    _check(supervisor, call)
    profile = await database_sync_to_async(_profile)(supervisor)
    port = telephony()
    if port is None or not port.monitors(call.connection_key):
        raise no_pbx_error()
    params: dict[str, object] = {"phone": profile.interface, **_twilio_params(call, profile)}
    result = await port.command(
        call.organization_id, call.connection_key, "monitor_stop", params, timeout=timeout
    )
    await pbx_command_audited("monitor_stop", call.organization_id, call, params, result)
    if not result.ok:
        raise PbxFailed(result)
    return result


async def supervisor_call_move(
    *, supervisor: Membership, call: Call, agent: Agent, timeout: float
) -> PbxResult:
    """Move a caller waiting in a queue to ``agent``'s phone (Redirect of the caller's
    leg to the agent's extension in the dialplan): the queue lets the caller go, the
    agent's phone rings; the PBX's events tell the rest."""
    _check(supervisor, call, agent)
    port = telephony()
    if port is None or not port.manages(call.connection_key):
        raise no_pbx_error()
    if call.status != CallStatus.QUEUED:
        raise ApplicationError(
            "Only a caller waiting in a queue can be moved.", code="not_waiting", status=409
        )
    params: dict[str, Any] = {"call": call.external_id, "exten": agent.extension}
    if call.source == CallSource.TWILIO:  # offered to the agent by our routing
        params["agent_id"] = agent.pk
    result = await port.command(
        call.organization_id, call.connection_key, "redirect", params, timeout=timeout
    )
    await pbx_command_audited(
        "redirect", call.organization_id, call, {"agent": agent.pk, **params}, result
    )
    if not result.ok:
        raise PbxFailed(result)
    return result


async def supervisor_call_move_to_queue(
    *, supervisor: Membership, call: Call, queue: CallQueue, timeout: float
) -> PbxResult:
    """Move a caller waiting in a queue into ``queue`` (Redirect of the caller's leg to
    the dialplan extension that enters it: deploy/asterisk/extensions.conf, context
    ``cc-queues``): the first queue lets the caller go, the other takes them in; the
    PBX's events tell the rest."""
    _check(supervisor, call, queue)
    port = telephony()
    if port is None or not port.manages(call.connection_key):
        raise no_pbx_error()
    if call.status != CallStatus.QUEUED:
        raise ApplicationError(
            "Only a caller waiting in a queue can be moved.", code="not_waiting", status=409
        )
    if call.queue_id == queue.pk:
        raise ApplicationError(
            "The caller is waiting in that queue already.", code="same_queue", status=409
        )
    params = {"call": call.external_id, "queue": queue.pbx_queue_name}
    result = await port.command(
        call.organization_id, call.connection_key, "move_to_queue", params, timeout=timeout
    )
    await pbx_command_audited(
        "move_to_queue", call.organization_id, call, {"queue_id": queue.pk, **params}, result
    )
    if not result.ok:
        raise PbxFailed(result)
    return result
