"""Channel-layer group names: the one module that spells them.

Names use dots, never colons (channels-redis rejects colons in group names), and carry
only integer primary keys, which are unique across organizations: the group of agent 42
can only ever hold agent 42's consoles.
"""

from __future__ import annotations


def agent_group(agent_id: int) -> str:
    """Every console tab of one agent: their state, calls, cases."""
    return f"agent.{agent_id}"


def user_group(user_id: int) -> str:
    """Every console tab of one user: their notifications."""
    return f"user.{user_id}"


def user_sockets_group(user_id: int) -> str:
    """Every socket of one user, whatever its stream: told when the user's sessions are
    revoked (each closes, docs/realtime-protocol.md)."""
    return f"sockets.{user_id}"


def queues_group(organization_id: int) -> str:
    """Every console and wallboard of one organization: "queue figures changed" pings."""
    return f"queues.{organization_id}"


def floor_group(organization_id: int) -> str:
    """The wallboards of one organization: who of its agents is online."""
    return f"floor.{organization_id}"


def supervisors_group(organization_id: int) -> str:
    """The supervisor pages of one organization: "the floor changed" pings (internal:
    each page reads the floor again, coalesced; realtime/consumers/supervisor.py)."""
    return f"supervisors.{organization_id}"


def alerts_group(organization_id: int) -> str:
    """The wallboards and supervisor pages of one organization: its queue alerts."""
    return f"alerts.{organization_id}"
