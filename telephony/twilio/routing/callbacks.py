"""A callback's attempts on Twilio: the call placed for it (``ringing.ring``, REST
``calls.create`` with ``?callback=<id>`` in its status URL) reports here.

The customer answers (``in-progress``): the callback is answered, the offer connected.
The call is over (``completed``): the agent is free. The customer does not answer, is
busy, or the call fails: the attempt is recorded and the callback waits
``retry_seconds`` for the next, or is given up after ``max_attempts``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from contactcenter.models import Callback, CallbackStatus
from contactcenter.services.callbacks import callback_attempt_answered, callback_attempt_over
from telephony.models import OFFER_ACTIVE, OfferStatus, TwilioOffer

_NOT_REACHED = {
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "canceled",
}


def attempt_over(*, callback_id: int, outcome: str, at: datetime, connection_key: str = "") -> None:
    """The attempt under way did not reach the customer: wait for the next, or give up
    (audited by the PBX of ``connection_key`` when Twilio said so, else the context's)."""
    callback_attempt_over(
        callback_id=callback_id, outcome=outcome, at=at, connection_key=connection_key
    )


@transaction.atomic
def follow(
    *, organization_id: int, callback: str, status: str, at: datetime, connection_key: str = ""
) -> bool:
    """A status callback of the call placed for ``callback`` (our id, from the signed
    URL), from the Twilio account of ``connection_key`` (named in the attempt's audit
    entry). Returns whether an agent was freed (a decision is then due)."""
    if not callback.isdigit():
        return False
    offers = TwilioOffer.objects.for_organization(organization_id).filter(
        callback_id=int(callback), status__in=OFFER_ACTIVE
    )
    offer = offers.select_for_update().first()
    if offer is None:  # a re-delivered callback, or one after the end: nothing to do
        return False
    callback_id = int(callback)
    if status == "in-progress":
        if offer.status != OfferStatus.CONNECTED:
            offer.status, offer.answered_at = OfferStatus.CONNECTED, at
            offer.save(update_fields=["status", "answered_at"])
            _answered(callback_id, connection_key)
        return False
    if status == "completed":
        # Twilio's "completed" is a call that was answered and is over.
        _answered(callback_id, connection_key)
        offer.answered_at = offer.answered_at or at
    elif status in _NOT_REACHED:
        attempt_over(
            callback_id=callback_id,
            outcome=_NOT_REACHED[status],
            at=at,
            connection_key=connection_key,
        )
    else:
        return False
    offer.status, offer.ended_at = OfferStatus.DONE, at
    offer.save(update_fields=["status", "answered_at", "ended_at"])
    return True


def _answered(callback_id: int, connection_key: str) -> None:
    callback_attempt_answered(callback_id=callback_id, connection_key=connection_key)


def release_lost(*, at: datetime) -> None:
    """Callbacks being dialled whose offer expired (a process died, a callback was lost):
    the attempt counts as failed."""
    placing = TwilioOffer.objects.filter(status__in=OFFER_ACTIVE, callback__isnull=False)
    # A callback offered in a console (offered_at: Asterisk's) is the bridge's to follow.
    lost = Callback.objects.filter(status=CallbackStatus.DIALING, offered_at__isnull=True).exclude(
        pk__in=placing.values("callback_id")
    )
    for callback_id in lost.values_list("pk", flat=True):
        attempt_over(callback_id=callback_id, outcome="lost", at=at)
