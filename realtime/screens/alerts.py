"""Queue alerts on the screens: the view of one, and the messages when they change.

Wallboards (and supervisor pages) join ``alerts.<organization id>``; the snapshot
carries the raised alerts of its scope, ``alert.raised`` and ``alert.cleared`` the
changes after it (docs/supervisor.md#alerts).
"""

from __future__ import annotations

from collections.abc import Iterable

from contactcenter.alerts import describe
from contactcenter.models import QueueAlert
from contactcenter.selectors.alerts import queue_alerts_by_ids, queue_alerts_open
from realtime import messages as msgs
from realtime.groups import alerts_group
from realtime.send import Message, message


def queue_alert_view(alert: QueueAlert) -> msgs.QueueAlertView:
    return msgs.QueueAlertView(
        id=alert.pk,
        queue_id=alert.queue_id,
        queue_name=alert.queue.name,
        kind=alert.kind,  # type: ignore[arg-type]
        text=describe(alert.kind, alert.value, alert.threshold),
        threshold=alert.threshold,
        value=alert.value,
        raised_at=alert.raised_at,
        cleared_at=alert.cleared_at,
        cleared_value=alert.cleared_value,
    )


def open_alert_views(*, organization_id: int, queue_id: int | None) -> list[msgs.QueueAlertView]:
    """The raised alerts of a wallboard's scope (the whole floor: ``None``)."""
    alerts = queue_alerts_open(organization_id=organization_id, queue_id=queue_id)
    return [queue_alert_view(alert) for alert in alerts]


def publish_queue_alerts(organization_id: int, alert_ids: Iterable[int]) -> list[Message]:
    """``alert.raised`` or ``alert.cleared`` (as each alert is now) to the organization's
    alerts group. One raised and cleared before this ran is only cleared."""
    messages: list[Message] = []
    for alert in queue_alerts_by_ids(organization_id=organization_id, alert_ids=alert_ids):
        type_ = "alert.raised" if alert.cleared_at is None else "alert.cleared"
        data = msgs.QueueAlertData(alert=queue_alert_view(alert))
        messages.append((alerts_group(organization_id), message(type_, data)))
    return messages
