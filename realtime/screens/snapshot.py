"""Snapshots: everything a screen shows, read in one go when a socket opens.

A client that reconnects gets a fresh snapshot and so never needs the messages it missed.
Each snapshot is built with the renderers the changes use (``realtime.screens.render``,
``realtime.screens.console``): applying the changes to a snapshot gives the next snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from contactcenter.figures import QueueFigures
from contactcenter.models import Agent, Membership
from contactcenter.ports import softphone_ready
from contactcenter.selectors import screen_calls, screens
from contactcenter.selectors.access import agent_for_membership, membership_for_user
from contactcenter.selectors.wallboard import Wallboard, figures_by_queue, wallboard
from crm.selectors import notification_list_unread
from realtime import messages as msgs
from realtime import presence
from realtime.screens import console, render
from realtime.screens.alerts import open_alert_views

NOTIFICATIONS_LIMIT = 50


@dataclass(frozen=True)
class Caller:
    """The user on the socket, with their place in the tenancy."""

    membership: Membership
    agent: Agent | None

    @property
    def organization_id(self) -> int:
        return self.membership.organization_id


def caller_for(user: object) -> Caller | None:
    membership = membership_for_user(user)
    if membership is None:
        return None
    return Caller(membership=membership, agent=agent_for_membership(membership))


def agent_queue_ids(agent: Agent) -> list[int]:
    """The queues the agent is a member of; the console's queue list until it reconnects."""
    return screens.agent_queue_ids(organization_id=agent.organization_id, agent_id=agent.pk)


def softphone_config(agent: Agent) -> msgs.SoftphoneConfig:
    """The agent's softphone setup, SIP password included: for that agent's sockets only.

    A blank domain or WebSocket URL on the profile falls back to the settings; without a
    WebSocket URL, or without a username and password, there is no SIP account.
    """
    websocket_url = agent.sip_websocket_url or settings.SOFTPHONE_SIP_WEBSOCKET_URL
    domain = agent.sip_domain or settings.SOFTPHONE_SIP_DOMAIN
    if not domain and websocket_url:
        domain = urlsplit(websocket_url).hostname or ""
    sip = None
    if agent.sip_username and agent.sip_password and websocket_url and domain:
        sip = msgs.SipAccount(
            uri=f"sip:{agent.sip_username}@{domain}",
            username=agent.sip_username,
            password=agent.sip_password,
            domain=domain,
            websocket_url=websocket_url,
            display_name=agent.name,
        )
    return msgs.SoftphoneConfig(sip=sip, twilio=softphone_ready(agent.organization_id))


def agent_snapshot(
    caller: Caller, *, online: bool, figures: Sequence[QueueFigures] | None = None
) -> msgs.AgentSnapshotData:
    """The console's snapshot. ``figures``: the agent's queues' figures when the caller
    has them (the consumer shares one read among the snapshots: realtime.feed), else
    they are read here."""
    assert caller.agent is not None
    agent = screens.agent_fresh(agent_id=caller.agent.pk)
    now = timezone.now()
    on_screen = console.call_changes(
        calls=screen_calls.screen_calls(agent, console.wrapped_up_since(now)),
        agents=[agent],
        now=now,
        only_on_screen=True,
    )
    organization = caller.membership.organization
    queues = figures
    if queues is None:
        queues = figures_by_queue(
            organization=organization,
            now=now,
            queue_ids=agent_queue_ids(agent),
            with_agents=False,  # the console shows counts by state, not the members
        )
    dispositions = screens.disposition_choices(organization_id=caller.organization_id)
    return msgs.AgentSnapshotData(
        agent=render.agent_view(agent),
        online=online,
        calls=[c.data for c in on_screen if isinstance(c.data, msgs.CallFrameData)],
        queues=[render.queue_stats(m) for m in queues],
        notifications=[
            render.notification_view(n)
            for n in notification_list_unread(
                user_id=caller.membership.user_id,
                organization_id=caller.organization_id,
                limit=NOTIFICATIONS_LIMIT,
            )
        ],
        dispositions=[render.disposition_view(d) for d in dispositions],
        softphone=softphone_config(agent),
    )


def wallboard_queue_exists(caller: Caller, queue_id: int) -> bool:
    """Another organization's queue does not exist, exactly as an id never used."""
    return screens.active_queue_exists(organization_id=caller.organization_id, queue_id=queue_id)


def wallboard_snapshot(
    caller: Caller, *, queue_id: int | None, board: Wallboard | None = None
) -> msgs.WallboardSnapshotData:
    """The wallboard's snapshot. ``board``: its scope's ``wallboard`` when the caller has
    it (the consumer shares one read among the snapshots: realtime.feed), else it is
    read here."""
    if board is None:
        board = wallboard(
            organization=caller.membership.organization,
            queue_ids=None if queue_id is None else [queue_id],
        )
    return msgs.WallboardSnapshotData(
        scope=msgs.WallboardScope(queue_id=queue_id),
        time_zone=board.day.time_zone,
        day_start=board.day.start,
        day_end=board.day.end,
        queues=[render.queue_board(m) for m in board.queues],
        totals=render.board_totals(board.totals),
        online_agent_ids=sorted(presence.online_agents(caller.organization_id)),
        alerts=open_alert_views(organization_id=caller.organization_id, queue_id=queue_id),
    )
