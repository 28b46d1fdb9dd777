"""The dialplan's callback request, as the PBX reports it.

A caller waiting in a queue presses the key of the queue's exit context; the dialplan
there (deploy/asterisk/extensions.conf, ``[queue-callback]``) raises::

    UserEvent(CallbackRequest,Queue: ${QUEUENAME},Number: ${CBNUM},Position: ${QUEUEPOSITION})

which Asterisk sends as ``Event: UserEvent`` with ``UserEvent: CallbackRequest``, the
caller's channel headers (``Uniqueid``, ``Linkedid``, ``CallerIDNum``...) and ours:

| header | means | absent or blank |
|---|---|---|
| ``Queue`` | the queue (PBX name) whose line the caller keeps their place in | skipped |
| ``Number`` | the number to call back | ``CallerIDNum`` |
| ``Position`` | their position when they asked (``QUEUEPOSITION``) | none |

Any other ``UserEvent`` is the dialplan's own business and is dropped at the socket.
"""

from __future__ import annotations

import logging
from datetime import datetime

from contactcenter import facts as te
from telephony.ami.fields import Fields, integer, text

logger = logging.getLogger(__name__)

EVENT = "UserEvent"
NAME = "CallbackRequest"
# The raw-text test at the socket's edge (bridge._EDGE_CHECKS): cheap, before parsing.
EDGE_MARK = NAME.upper()


def is_callback_request(msg: Fields) -> bool:
    return text(msg, "UserEvent").strip().lower() == NAME.lower()


def callback_requested(msg: Fields, *, call_key: str, at: datetime, key: str) -> list[te.Fact]:
    """The fact of a ``UserEvent: CallbackRequest``; [] for another user event, or one
    that names no queue."""
    if not is_callback_request(msg):
        return []
    queue = text(msg, "Queue").strip()
    number = text(msg, "Number").strip() or text(msg, "CallerIDNum").strip()
    if not queue:
        logger.warning("AMI UserEvent CallbackRequest without a Queue header; skipped")
        return []
    position = integer(msg, "Position")
    return [
        te.CallbackRequested(
            call_key=call_key,
            at=at,
            dedup_key=f"{key}:callback",
            queue=queue,
            number=number,
            position=position if position is not None and position > 0 else None,
        )
    ]
