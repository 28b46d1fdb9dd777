"""Reaching the bridge that owns a PBX connection, over the channel layer.

Each bridge listens on the group of its organization's connection; a command goes to
that group with a reply channel, and the bridge answers there. Works across processes
on the Redis layer, and inside the one-process default on the in-memory layer.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from contactcenter.ports import PbxResult


def pbx_group(organization_id: int, connection_key: str) -> str:
    """Channel-layer group of one organization's PBX connection (organization 7,
    "asterisk:3" -> "pbx.7.asterisk-3").

    The organization is in the name because a connection key alone is not unique
    across bridges: every bridge started with its own AMI_URL has "asterisk:env", and
    with one group for all of them one organization's commands reached the others' PBXs.
    """
    return f"pbx.{int(organization_id)}." + re.sub(r"[^A-Za-z0-9_.-]", "-", connection_key)


async def pbx_command(
    organization_id: int,
    connection_key: str,
    command: str,
    params: dict[str, Any],
    *,
    timeout: float = 10.0,
) -> PbxResult:
    """Ask the bridge of ``organization_id``'s ``connection_key`` to run ``command``;
    wait for its answer. The message names the organization too: a bridge refuses a
    command for any organization but its own (telephony/ami/desk.py)."""
    layer = get_channel_layer()
    if layer is None:
        return PbxResult(ok=False, error="no_channel_layer", message="No channel layer.")
    # The default prefix: channels-redis reads a process's own channels under one key.
    reply_to = await layer.new_channel()
    await layer.group_send(
        pbx_group(organization_id, connection_key),
        {
            "type": "pbx.command",
            "organization": organization_id,
            "command": command,
            "params": params,
            "reply_to": reply_to,
        },
    )
    try:
        reply = await asyncio.wait_for(layer.receive(reply_to), timeout)
    except TimeoutError:
        return PbxResult(
            ok=False,
            error="timeout",
            message="The PBX bridge did not answer: is it running and connected?",
        )
    if reply.get("type") != "pbx.result":  # the layer lost its connection (realtime.layers)
        return PbxResult(
            ok=False,
            error="interrupted",
            message="The connection to the PBX bridge was interrupted: try again.",
        )
    return PbxResult(
        ok=bool(reply.get("ok")),
        message=str(reply.get("message", "")),
        error=str(reply.get("error", "")),
        data=reply.get("data"),
    )


def organization_pbx(organization_id: int) -> str | None:
    """The connection serving an organization's commands that name no call: its first
    enabled Asterisk connection, else AMI_URL's when bound to it. (A command about a call
    goes to the connection that reported the call, ``Call.connection_key``.)"""
    # Imported here: the bridge imports targets and, through its desk, this module.
    from telephony.ami.targets import ENV_CONNECTION, env_organization, record_connection_key
    from telephony.models import AsteriskConnection

    record = (
        AsteriskConnection.objects.for_organization(organization_id)
        .filter(is_enabled=True)
        .order_by("pk")
        .first()
    )
    if record is not None:
        return record_connection_key(record.pk)
    if settings.AMI_URL:
        bound = env_organization(settings.AMI_ORGANIZATION)
        if bound is not None and bound.pk == organization_id:
            return ENV_CONNECTION
    return None


def reaches_bridge(connection_key: str) -> bool:
    """Only the AMI bridge listens for console commands; Twilio calls are not reachable."""
    return connection_key.startswith("asterisk:")


class BridgePort:
    """contactcenter's telephony port (``contactcenter.ports``), over the channel layer
    to the bridges; installed by ``TelephonyConfig.ready``."""

    def command_connection(self, organization_id: int) -> str | None:
        return organization_pbx(organization_id)

    def callback_connection(self, organization_id: int) -> str | None:
        from telephony.twilio.desk import callback_account

        account = callback_account(organization_id)
        if account is not None:  # Twilio places them (telephony/twilio/routing/)
            return f"twilio:{account.account_sid}"
        return organization_pbx(organization_id)

    def reaches_bridge(self, connection_key: str) -> bool:
        return reaches_bridge(connection_key)

    def routing_connection(self, organization_id: int) -> str | None:
        from telephony.twilio.desk import routing_account

        account = routing_account(organization_id)
        return None if account is None else f"twilio:{account.account_sid}"

    def manages(self, connection_key: str) -> bool:
        from telephony.twilio.desk import is_twilio

        # Twilio: our own routing's state, and the call over REST (telephony/twilio/managing.py).
        return reaches_bridge(connection_key) or is_twilio(connection_key)

    def monitors(self, connection_key: str) -> bool:
        from telephony.twilio.desk import is_twilio

        # Twilio: through the call's conference, over REST (telephony/twilio/coaching.py).
        return reaches_bridge(connection_key) or is_twilio(connection_key)

    def records(self, connection_key: str) -> bool:
        from telephony.twilio.desk import is_twilio

        # Twilio: the call's recordings over REST (telephony/twilio/recording_rest.py).
        return reaches_bridge(connection_key) or is_twilio(connection_key)

    async def command(
        self,
        organization_id: int,
        connection_key: str,
        command: str,
        params: dict[str, Any],
        *,
        timeout: float,
    ) -> PbxResult:
        from telephony.twilio.desk import is_twilio, twilio_command

        if is_twilio(connection_key):  # no bridge: Twilio's REST API, from here
            return await twilio_command(
                organization_id, connection_key, command, params, timeout=timeout
            )
        return await pbx_command(organization_id, connection_key, command, params, timeout=timeout)

    def softphone_ready(self, organization_id: int) -> bool:
        from telephony.twilio.token import twilio_softphone_ready

        return twilio_softphone_ready(organization_id=organization_id)

    def agent_free(self, organization_id: int) -> None:
        from telephony.models import TwilioAccount
        from telephony.twilio.routing.ringing import request

        accounts = TwilioAccount.objects.filter(organization_id=organization_id, is_enabled=True)
        if accounts.exists():
            request(organization_id)
