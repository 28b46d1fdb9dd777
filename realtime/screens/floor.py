"""The supervisor page's floor (``/ws/supervisor/``): every agent of the organization with
their queues and the call they are on, the callers waiting, the queues.

The snapshot and each ``floor.update`` are the same read (``contactcenter.selectors.
floor``) rendered the same way, whole: an update replaces the floor the page shows, so
applying it to a snapshot gives the next snapshot by construction.
"""

from __future__ import annotations

from contactcenter.selectors.access import agent_for_membership
from contactcenter.selectors.floor import Floor, FloorCall, supervisor_floor
from realtime import messages as msgs
from realtime import presence
from realtime.groups import supervisors_group
from realtime.screens import render
from realtime.screens.alerts import open_alert_views
from realtime.screens.snapshot import Caller
from realtime.send import Message


def _call(floor_call: FloorCall) -> msgs.FloorCall:
    call = floor_call.call
    return msgs.FloorCall(
        call=render.call_view(call),
        queue_id=floor_call.queue.pk if floor_call.queue is not None else None,
        queue_name=floor_call.queue.name if floor_call.queue is not None else "",
        monitors=[
            msgs.FloorMonitor(
                session=m.session,
                mode=m.mode,
                supervisor_user_id=m.supervisor_user_id,
                supervisor_name=m.supervisor_name,
                started_at=m.started_at,
            )
            for m in floor_call.monitors
        ],
    )


def floor_data(floor: Floor) -> msgs.FloorData:
    return msgs.FloorData(
        agents=[
            msgs.FloorAgent(
                agent=render.agent_view(row.agent),
                queues=[
                    msgs.FloorMembership(
                        queue_id=m.queue_id,
                        queue_name=m.queue.name,
                        penalty=m.penalty,
                        logged_in=m.is_logged_in,
                        paused=m.paused,
                        paused_reason=m.paused_reason,
                    )
                    for m in row.memberships
                ],
                call=None if row.call is None else _call(row.call),
            )
            for row in floor.agents
        ],
        waiting=[_call(c) for c in floor.waiting],
        queues=[msgs.FloorQueue(id=q.pk, name=q.name) for q in floor.queues],
    )


def floor_update(organization_id: int) -> msgs.FloorData:
    """The ``floor.update`` message's data: the whole floor as it is now."""
    return floor_data(supervisor_floor(organization_id=organization_id))


def supervisor_snapshot(caller: Caller) -> msgs.SupervisorSnapshotData:
    floor = floor_update(caller.organization_id)
    profile = agent_for_membership(caller.membership)
    return msgs.SupervisorSnapshotData(
        **floor.model_dump(),
        phone=profile.interface if profile is not None else "",
        online_agent_ids=sorted(presence.online_agents(caller.organization_id)),
        alerts=open_alert_views(organization_id=caller.organization_id, queue_id=None),
    )


def floor_ping(organization_id: int) -> list[Message]:
    """A render job (realtime.publish): "the floor changed" to the organization's
    supervisor pages, which read it again themselves (coalesced there)."""
    return [(supervisors_group(organization_id), {"type": "floor.changed"})]
