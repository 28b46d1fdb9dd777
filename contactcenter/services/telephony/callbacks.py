"""The callbacks waiting callers asked the PBX for (``CallbackRequested``: on Asterisk,
the dialplan's ``UserEvent: CallbackRequest``), kept as the REST API's are.

Applied after the batch's calls are saved: the callback names the call it was asked
from, and keeps that call's place in its queue's line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from contactcenter import facts as te
from contactcenter.errors import ApplicationError
from contactcenter.models import Call
from contactcenter.services.callbacks import callback_schedule
from contactcenter.services.telephony.calls import Lookups

logger = logging.getLogger(__name__)


def keep_requested_callbacks(
    organization_id: int,
    requests: Sequence[te.CallbackRequested],
    lookups: Lookups,
    connection_key: str,
) -> int:
    """Keep a callback for each request; a request for a call or queue we do not know,
    or a number we cannot call, is logged and skipped. Returns how many were kept (a
    replayed request keeps the one it kept before, and counts). Each kept callback's
    ``create`` entry names the PBX of ``connection_key``, which reported the request."""
    kept = 0
    for fact in requests:
        queue = lookups.queues.get(fact.queue)
        call = (
            Call.objects.for_organization(organization_id)
            .filter(source=fact.source, external_id=fact.call_key)
            .first()
        )
        if queue is None or call is None:
            logger.warning(
                "callback request for call %s skipped: no such %s",
                fact.call_key,
                "queue" if queue is None else "call",
            )
            continue
        try:
            callback_schedule(
                queue=queue, number=fact.number, call=call, connection_key=connection_key
            )
        except ApplicationError as exc:  # a withheld or foreign number: nothing to call
            logger.warning("callback request for call %s skipped: %s", fact.call_key, exc.message)
            continue
        kept += 1
    return kept
