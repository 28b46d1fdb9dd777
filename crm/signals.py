"""What the CRM does when contactcenter announces a change (contactcenter.hooks).

contactcenter never imports crm: it sends its hooks, and ``CrmConfig.ready`` connects
the receivers below.
"""

from __future__ import annotations

from typing import Any

from contactcenter.hooks import call_disposition_changed
from crm.services.dispositions import call_disposition_rules_schedule


def _call_disposition_changed(
    sender: Any, *, call_id: int, disposition_id: int | None, **kwargs: Any
) -> None:
    # Inside the disposition's transaction: the rules' task is queued on its commit.
    call_disposition_rules_schedule(call_id=call_id, disposition_id=disposition_id)


def connect() -> None:
    call_disposition_changed.connect(
        _call_disposition_changed, dispatch_uid="crm.call_disposition_rules"
    )
