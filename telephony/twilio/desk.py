"""The telephony port's commands about a Twilio call: run here, over Twilio's REST API.

An Asterisk call's commands go to the bridge that owns its PBX (telephony/pbx.py); a
Twilio call has no bridge, and the agent's softphone controls the call itself (hold,
transfer, hang up). A supervisor's monitoring runs here, through the call's conference
(telephony/twilio/coaching.py), and so do their management commands (pause, queue
membership, move, hang up: telephony/twilio/managing.py). Each monitoring session that
starts or ends here becomes a ``MonitorStarted`` / ``MonitorStopped`` fact of the call,
applied as the PBX's facts are (the call's timeline and the audit trail).

``originate`` places the call for a callback an agent accepted in the console
(``callback_call``): Twilio calls the customer from the account's caller ID, then the
agent's browser; the placed call reports to the status webhook with the callback's id.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallSource
from contactcenter.models import Agent
from contactcenter.ports import PbxResult
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio import actions, coaching, managing, moving, recording_rest
from telephony.twilio.actions import ActionResult
from telephony.twilio.callbacks import Hints, webhook_url

logger = logging.getLogger(__name__)

COMMANDS = frozenset({"monitor", "monitor_stop"})
PREFIX = "twilio:"


def is_twilio(connection_key: str) -> bool:
    return connection_key.startswith(PREFIX)


def _account(organization_id: int, connection_key: str) -> TwilioAccount | None:
    return (
        TwilioAccount.objects.filter(
            organization_id=organization_id,
            account_sid=connection_key.removeprefix(PREFIX),
            is_enabled=True,
        )
        .order_by("pk")
        .first()
    )


def routing_account(organization_id: int) -> TwilioAccount | None:
    """The organization's enabled Twilio account, whose queues we route."""
    return (
        TwilioAccount.objects.filter(organization_id=organization_id, is_enabled=True)
        .order_by("pk")
        .first()
    )


def callback_account(organization_id: int) -> TwilioAccount | None:
    """The organization's Twilio account, when it places the callbacks: enabled, with a
    caller ID (the number callbacks are placed from)."""
    return (
        TwilioAccount.objects.filter(organization_id=organization_id, is_enabled=True)
        .exclude(caller_id="")
        .order_by("pk")
        .first()
    )


async def _originate(
    organization_id: int, connection_key: str, params: dict[str, Any], timeout: float
) -> PbxResult:
    """A callback's call: ``number`` (E.164, the callback's), ``agent_id`` (whose browser
    rings once the customer answers) and ``callback`` (its id, in the status URL)."""
    number, agent_id, callback = (
        str(params.get(k, "")) for k in ("number", "agent_id", "callback")
    )
    if not (number and agent_id.isdigit() and callback.isdigit()):
        return PbxResult(
            ok=False,
            error="unsupported",
            message="Twilio places calls for callbacks only; the softphone places the others.",
        )
    account = await database_sync_to_async(_account)(organization_id, connection_key)
    if account is None or not account.caller_id:
        return PbxResult(
            ok=False, error="no_pbx", message="The organization's Twilio account has no caller ID."
        )
    agent = await database_sync_to_async(_active_agent)(organization_id, int(agent_id))
    if agent is None:  # never another organization's agent's browser
        return PbxResult(ok=False, error="bad_request", message="No such active agent.")
    if not settings.PUBLIC_URL:
        return PbxResult(
            ok=False, error="no_public_url", message="PUBLIC_URL is needed to place calls."
        )
    run = functools.partial(
        actions.originate,
        account,
        to=number,
        from_number=account.caller_id,
        agent=agent.twilio_identity,
        base_url=settings.PUBLIC_URL,
        callback=int(callback),
    )
    try:
        result: ActionResult = await asyncio.wait_for(asyncio.to_thread(run), timeout)
    except TimeoutError:
        return PbxResult(ok=False, error="timeout", message="Twilio did not answer in time.")
    if not result.ok:
        return PbxResult(ok=False, error="refused", message=result.message)
    return PbxResult(ok=True, data={"call": result.call_sid})


def _active_agent(organization_id: int, agent_id: int) -> Agent | None:
    agent: Agent | None = (
        Agent.objects.for_organization(organization_id).filter(pk=agent_id, is_active=True).first()
    )
    return agent


def _record(
    organization_id: int, connection_key: str, command: str, params: dict[str, Any], session: str
) -> None:
    fact_type = te.MonitorStarted if command == "monitor" else te.MonitorStopped
    fact = fact_type(
        call_key=str(params["call"]),
        at=timezone.now(),
        dedup_key=f"{PREFIX}{session}:{command}",
        source=CallSource.TWILIO,
        session=session,
        phone=str(params.get("phone", "")),
        agent=str(params.get("agent", "")),
        mode=str(params.get("mode", "")),
    )
    telephony_apply(organization_id=organization_id, connection_key=connection_key, events=[fact])


async def twilio_command(
    organization_id: int,
    connection_key: str,
    command: str,
    params: dict[str, Any],
    *,
    timeout: float,
) -> PbxResult:
    """``monitor`` (``call``: the customer's CallSid, ``identity``: the supervisor's
    client, ``mode``) or ``monitor_stop``; the recording's commands
    (telephony/twilio/recording_rest.py); ``originate`` of a callback's call; a
    supervisor's management of the floor we route (telephony/twilio/managing.py); any
    other command is refused."""
    if command in recording_rest.COMMANDS:
        return await recording_rest.recording_command(
            organization_id, connection_key, command, params, timeout=timeout
        )
    if command == "originate":
        return await _originate(organization_id, connection_key, params, timeout)
    if command in managing.COMMANDS:
        managed_account = await database_sync_to_async(_account)(organization_id, connection_key)
        if managed_account is None:
            return PbxResult(
                ok=False,
                error="no_pbx",
                message="The organization's Twilio account is not enabled.",
            )
        return await managing.managed(managed_account, command, params, timeout=timeout)
    if command not in COMMANDS:
        return PbxResult(
            ok=False,
            error="unsupported",
            message="A Twilio call takes that from the agent's softphone, not from here.",
        )
    if not params.get("call") or not params.get("identity"):
        return PbxResult(ok=False, error="bad_request", message="'call' and 'identity' are needed.")
    account = await database_sync_to_async(_account)(organization_id, connection_key)
    if account is None:
        return PbxResult(
            ok=False, error="no_pbx", message="The organization's Twilio account is not enabled."
        )
    try:
        result = await asyncio.wait_for(
            _monitoring(organization_id, account, command, params), timeout
        )
    except TimeoutError:
        return PbxResult(ok=False, error="timeout", message="Twilio did not answer in time.")
    if not result.ok:
        return PbxResult(ok=False, error="refused", message=result.message)
    switched = result.message == coaching.SWITCHED
    if not switched:  # a new session, or one ended: on the call's timeline
        await database_sync_to_async(_record)(
            organization_id, connection_key, command, params, result.call_sid
        )
    return PbxResult(
        ok=True,
        message="Mode switched." if switched else "",
        data={"session": result.call_sid, "switched": switched},
    )


async def _monitoring(
    organization_id: int, account: TwilioAccount, command: str, params: dict[str, Any]
) -> ActionResult:
    """``monitor`` or ``monitor_stop`` over Twilio's REST API. A call our routing
    connected is moved into a conference of its own on the first ``monitor``
    (telephony/twilio/moving.py) and monitored there; any other call in the conference
    it is in (telephony/twilio/coaching.py)."""
    call_sid, supervisor = str(params["call"]), str(params["identity"])
    mode = str(params.get("mode", ""))
    # The supervisor's leg says when it ends (they hung up): telephony/twilio/monitor_status.py.
    status = (
        webhook_url(settings.PUBLIC_URL, "monitor-status", Hints(monitored=call_sid))
        if settings.PUBLIC_URL
        else ""
    )
    routed = await database_sync_to_async(moving.routed)(organization_id, call_sid)
    where: coaching.Finder
    if routed is None:
        where = coaching.conference_with(call_sid)
    elif command == "monitor_stop":
        if not routed.room:
            return ActionResult(ok=False, message="No monitoring call of yours is live.")
        # The session is in the room already or not at all: no waiting for the agent's leg.
        where = coaching.conference_named(routed.room, routed.agent_leg, wait=0.0)
    else:
        if mode not in coaching.MODES:
            return ActionResult(ok=False, message=f"Unknown mode {mode!r}.")
        room = routed.room
        if not room:
            moved = await _move(account, routed, call_sid)
            if not moved.ok:
                return moved
            room = moved.message
        where = coaching.conference_named(room, routed.agent_leg)
    if command == "monitor_stop":
        run = functools.partial(coaching.monitor_stop, account, where=where, supervisor=supervisor)
    else:
        run = functools.partial(
            coaching.monitor,
            account,
            where=where,
            supervisor=supervisor,
            mode=mode,
            caller_id=account.caller_id,
            status_callback=status,
        )
    return await asyncio.to_thread(run)


async def _move(account: TwilioAccount, routed: moving.Routed, call_sid: str) -> ActionResult:
    """Move the routed call into its room: the offer marked first, then the agent's leg
    redirected there; Twilio refusing, the mark is taken back. The result's message is
    the room."""
    room = await database_sync_to_async(moving.claim_room)(routed, call_sid)
    if not room:
        return ActionResult(ok=False, message="The call is no longer connected to its agent.")
    redirect = functools.partial(
        actions.update_twiml, account, routed.agent_leg, document=moving.agent_document(room)
    )
    result: ActionResult = await asyncio.to_thread(redirect)
    if not result.ok:
        await database_sync_to_async(moving.release_room)(routed, room)
        return result
    if routed.records:  # the <Dial>'s recording ends with it: the rest on the caller's call
        start = functools.partial(
            recording_rest.recording_start, account, call_sid, agent=routed.agent
        )
        recorded: ActionResult = await asyncio.to_thread(start)
        if not recorded.ok:  # the call goes on, moved; its recording stops here
            logger.warning("Twilio call %s moved, not recorded on: %s", call_sid, recorded.message)
    return ActionResult(ok=True, call_sid=result.call_sid, message=room)
