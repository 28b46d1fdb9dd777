"""The telephony port: how services reach the PBX without knowing AMI or Twilio.

telephony implements it and installs it from its AppConfig (``telephony.pbx.BridgePort``),
as realtime installs the publish sink (``contactcenter.publish``). With none installed
(a process without telephony) no organization has a PBX to command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction


@dataclass(frozen=True)
class PbxResult:
    """The bridge's answer to one command."""

    ok: bool
    message: str = ""
    error: str = ""
    data: dict[str, Any] | None = None


class TelephonyPort(Protocol):
    def command_connection(self, organization_id: int) -> str | None:
        """The connection serving the organization's commands that name no call."""

    def callback_connection(self, organization_id: int) -> str | None:
        """The connection that places the organization's callbacks (``originate`` with a
        ``callback``): its Twilio account where it has a caller ID, else its command
        connection."""

    def reaches_bridge(self, connection_key: str) -> bool:
        """Whether commands about a call of that connection can reach its PBX."""

    def routing_connection(self, organization_id: int) -> str | None:
        """Where the organization's queues are routed by us (its Twilio account's
        connection), the connection a supervisor's agent commands go to when it has no
        command connection; else None."""

    def manages(self, connection_key: str) -> bool:
        """Whether a supervisor's commands about a call (``hangup_call``, ``redirect``,
        ``move_to_queue``) reach a call of that connection: an Asterisk call's bridge,
        and a Twilio call (our routing, and REST)."""

    def monitors(self, connection_key: str) -> bool:
        """Whether ``monitor`` and ``monitor_stop`` reach a call of that connection: an
        Asterisk call's bridge, and a Twilio call (over REST), which no other command does."""

    def records(self, connection_key: str) -> bool:
        """Whether ``recording_start`` and ``recording_pause`` reach a call of that
        connection: an Asterisk call's bridge, and a Twilio call (over REST)."""

    async def command(
        self,
        organization_id: int,
        connection_key: str,
        command: str,
        params: dict[str, Any],
        *,
        timeout: float,
    ) -> PbxResult:
        """Run ``command`` on that organization's PBX of that connection, and no other."""

    def softphone_ready(self, organization_id: int) -> bool:
        """Whether the organization's agents can get browser softphone voice tokens."""

    def agent_free(self, organization_id: int) -> None:
        """An agent of the organization became available (offer them a waiting caller),
        or paused or offline (a leave-when-empty queue may have nobody left), where we
        route the calls ourselves (Twilio's queues): decide again. Called after commit."""


_port: TelephonyPort | None = None


def install(port: TelephonyPort) -> None:
    global _port
    _port = port


def telephony() -> TelephonyPort | None:
    """The installed port; ``None`` in a process without telephony (no PBX to command)."""
    return _port


def softphone_ready(organization_id: int) -> bool:
    """Whether the organization's agents can get browser softphone voice tokens."""
    return _port is not None and _port.softphone_ready(organization_id)


def agent_free(organization_id: int) -> None:
    """After the current transaction commits, tell the port an agent became available,
    or paused or offline (``TelephonyPort.agent_free``)."""
    port = _port
    if port is not None:
        transaction.on_commit(lambda: port.agent_free(organization_id), robust=True)
