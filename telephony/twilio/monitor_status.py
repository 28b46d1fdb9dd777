"""The end of a supervisor's monitoring leg on Twilio: they hung up their softphone.

A supervisor joins a call's conference as a participant that the Participants API
created (telephony/twilio/coaching.py) with ``StatusCallback`` set here and
``StatusCallbackEvent=completed``: Twilio then requests this webhook with the
participant's own call (``CallSid``: the session) once it is over, whoever ended it.
The session is stopped on the monitored call's timeline and in the audit trail
(``monitor.stopped``, in the mode it was last set to) with the key a stop from the
screen or the room's end uses, so a session is stopped once whichever comes first.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio import moving
from telephony.twilio.callbacks import Hints
from telephony.twilio.params import Callback as TwilioCallback
from telephony.twilio.views import connection_key, webhook

# A leg's statuses once it is over (a supervisor who never answered ends so too).
_OVER = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@webhook
def monitor_status(
    request: HttpRequest, account: TwilioAccount, callback: TwilioCallback, hints: Hints
) -> HttpResponse:
    if callback.status in _OVER and hints.monitored:
        stops = [
            stop
            for stop in moving.sessions_over(
                account.organization_id, hints.monitored, at=timezone.now()
            )
            if stop.session == callback.call_sid
        ]
        if stops:
            telephony_apply(
                organization_id=account.organization_id,
                connection_key=connection_key(account),
                events=stops,
            )
    return HttpResponse(status=204)
