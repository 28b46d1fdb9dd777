"""A callback's attempts on Twilio.

A due callback is offered in an agent's console by the routing (``decide``); the agent
accepts it (``callback_call``: REST ``calls.create`` through the telephony port, with
``?callback=<id>`` in the placed call's status URL) or declines it, as on Asterisk.
``tend``, before each decision and in the repair job, lets the offers nobody took lapse
and settles the attempts by the placed call's record (answered; not reached and
retried after ``retry_seconds``, or given up after ``max_attempts``), as the Asterisk
bridge does (contactcenter/services/callback_offers.py).

``follow`` and ``release_lost`` finish the attempts an earlier version placed through a
routing offer (``TwilioOffer.callback``) without a console offer.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from contactcenter.models import Callback, CallbackStatus
from contactcenter.models.callbacks import CALLBACK_OPEN
from contactcenter.services.callback_offers import callback_attempts_settle, callback_offers_expire
from contactcenter.services.callbacks import callback_attempt_answered, callback_attempt_over
from telephony.models import OFFER_ACTIVE, OfferStatus, TwilioAccount, TwilioOffer

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


def places_callbacks(organization_id: int) -> bool:
    """Whether Twilio places the organization's callbacks: its enabled account has a
    caller ID (the number callbacks are placed from)."""
    accounts = TwilioAccount.objects.filter(organization_id=organization_id, is_enabled=True)
    return bool(accounts.exclude(caller_id="").exists())


def tend(organization_id: int, now: datetime) -> None:
    """Offers nobody took within ``CALLBACK_OFFER_SECONDS`` lapse; attempts whose placed
    call has an outcome are settled. Only where Twilio places the callbacks."""
    scope = Callback.objects.for_organization(organization_id)
    if not scope.filter(status__in=CALLBACK_OPEN).exists():
        return
    if not places_callbacks(organization_id):
        return
    callback_offers_expire(organization_id=organization_id, now=now)
    callback_attempts_settle(organization_id=organization_id, now=now)
