"""What the CRM does when contactcenter announces a change (contactcenter.hooks).

contactcenter never imports crm: it sends its hooks, and ``CrmConfig.ready`` connects
the receivers below.
"""

from __future__ import annotations

from typing import Any

from contactcenter.hooks import (
    call_disposition_changed,
    queue_alert_raised,
    recordings_held,
    voicemail_case_requested,
)
from crm.selectors.holds import calls_on_legal_hold
from crm.services.dispositions import call_disposition_rules_schedule
from crm.services.notifications import floor_notify_queue_alert
from crm.services.voicemails import case_from_voicemail


def _call_disposition_changed(
    sender: Any, *, call_id: int, disposition_id: int | None, **kwargs: Any
) -> None:
    # Inside the disposition's transaction: the rules' task is queued on its commit.
    call_disposition_rules_schedule(call_id=call_id, disposition_id=disposition_id)


def _recordings_held(
    sender: Any, *, organization_id: int, call_ids: list[int], **kwargs: Any
) -> set[int]:
    return calls_on_legal_hold(organization_id=organization_id, call_ids=call_ids)


def _voicemail_case_requested(sender: Any, **kwargs: Any) -> int:
    return case_from_voicemail(
        voicemail=kwargs["voicemail"],
        user=kwargs.get("user"),
        agent=kwargs.get("agent"),
        title=kwargs["title"],
    )


def _queue_alert_raised(
    sender: Any,
    *,
    organization_id: int,
    alert_id: int,
    queue_id: int,
    queue_name: str,
    kind: str,
    text: str,
    **kwargs: Any,
) -> None:
    floor_notify_queue_alert(
        organization_id=organization_id,
        alert_id=alert_id,
        queue_id=queue_id,
        queue_name=queue_name,
        kind=kind,
        text=text,
    )


def connect() -> None:
    call_disposition_changed.connect(
        _call_disposition_changed, dispatch_uid="crm.call_disposition_rules"
    )
    recordings_held.connect(_recordings_held, dispatch_uid="crm.recordings_held")
    queue_alert_raised.connect(_queue_alert_raised, dispatch_uid="crm.queue_alert_raised")
    voicemail_case_requested.connect(_voicemail_case_requested, dispatch_uid="crm.voicemail_case")
