"""A call our routing connected, moved into a conference so that a supervisor can join it.

Our routing connects an agent and a caller with ``<Dial><Client>`` (telephony/twilio/
routing/): a bridge of two calls, the caller's (the parent) and the agent's leg (its
child), which nobody else can join. A supervisor joins through a conference
(telephony/twilio/coaching.py), so the first ``call.monitor`` on such a call moves it
into one, as Twilio documents a call's legs behave:

1. the offer is marked with the room (``cc-call-<the caller's CallSid>``), committed
   before Twilio is asked anything, since its next request may come before its answer;
2. the agent's leg is given new TwiML (``<Dial><Conference>``, REST): it leaves the
   ``<Dial>`` and enters the room. A redirected child leaves its parent on the line:
   Twilio ends the parent's ``<Dial>`` and asks for its action (``DialCallStatus``
   ``completed``, the caller's ``CallStatus`` still ``in-progress``), which is what an
   agent hanging up looks like too: the mark tells the two apart;
3. the Dial action (telephony/twilio/views.py, ``dial_result``) answers the caller with
   the same room (``caller_joins``), writes nothing and ends no offer: the call, its
   answer, its talk time and the agent's state go on as they were;
4. the supervisor's client joins the room once the agent's leg is in it.

A call its queue records was recorded by the ``<Dial>`` (``record-from-answer-dual``),
whose recording ends with it: that one is reported and fetched as ever (its callbacks
name the caller's CallSid), and the rest of the call is recorded on the caller's call
from the move on (REST, both channels, telephony/twilio/recording_rest.py): a second
recording of the same call. A conference's own recording would name no call.

A monitoring session still open when the room ends ends with it (``sessions_over``:
Twilio takes every participant out of a conference that ends), as a ChanSpy ends with
the agent's channel on Asterisk.

The room ends as either party leaves (``endConferenceOnExit`` on both), as the
``<Dial>`` did: the caller's ``<Dial><Conference>`` action (with the ``room`` hint) is
then the end of the agent's part of the call, who hung up told by the caller's
``CallStatus``, as for the ``<Dial>`` it replaced. Redirecting the parent instead would
have hung up the agent's leg (Twilio drops a ``<Dial>``'s child when its parent gets
new TwiML): that way is not taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contactcenter import facts as te
from contactcenter.enums import CallEventType, CallSource
from contactcenter.models import CallEvent
from telephony.models import OfferStatus, TwilioOffer
from telephony.twilio import twiml
from telephony.twilio.callbacks import Hints, agent_name, webhook_path
from telephony.twilio.routing.ringing import records_all

ROOM_PREFIX = "cc-call-"
AGENT_LABEL = "cc-agent"
CALLER_LABEL = "cc-caller"


@dataclass(frozen=True, kw_only=True, slots=True)
class Routed:
    """A routed call's connected offer: the agent's leg, and the room once moved."""

    offer_id: int
    agent_leg: str
    room: str
    agent: str  # "client:<identity>"
    # The <Dial> records the call (its queue's policy): that recording ends with it, so
    # the rest is recorded on the caller's call (telephony/twilio/recording_rest.py).
    records: bool


def room_for(call_sid: str) -> str:
    return ROOM_PREFIX + call_sid


def _connected(organization_id: int, call_sid: str) -> TwilioOffer | None:
    offer: TwilioOffer | None = (
        TwilioOffer.objects.for_organization(organization_id)
        .filter(
            call__source=CallSource.TWILIO,
            call__external_id=call_sid,
            status=OfferStatus.CONNECTED,
        )
        .exclude(leg_sid="")
        .select_related("agent", "queue__organization")
        .first()
    )
    return offer


def routed(organization_id: int, call_sid: str) -> Routed | None:
    """The call's connected offer (its agent answered, through our routing), if any."""
    offer = _connected(organization_id, call_sid)
    if offer is None:
        return None
    return Routed(
        offer_id=offer.pk,
        agent_leg=offer.leg_sid,
        room=offer.room,
        agent=agent_name(offer.agent.twilio_identity),
        records=records_all(offer.queue),
    )


def claim_room(found: Routed, call_sid: str) -> str:
    """Mark the offer as moving into its room (committed before Twilio is asked);
    "" when it is no longer connected."""
    room = room_for(call_sid)
    marked = TwilioOffer.objects.filter(
        pk=found.offer_id, status=OfferStatus.CONNECTED, room__in=("", room)
    ).update(room=room)
    return room if marked else ""


def release_room(found: Routed, room: str) -> None:
    """Twilio refused the move: the call is still bridged by its <Dial>."""
    TwilioOffer.objects.filter(pk=found.offer_id, room=room).update(room="")


def agent_document(room: str) -> str:
    """The agent's leg's new TwiML: into the room (no action: the leg ends with it)."""
    return twiml.conference(room=room, label=AGENT_LABEL)


def caller_joins(organization_id: int, call_sid: str, *, queue: str) -> str:
    """The Dial action of a call whose agent's leg we moved: the caller's TwiML into the
    same room; "" when the call was not moved (the agent hung up, or another end)."""
    offer = _connected(organization_id, call_sid)
    if offer is None or not offer.room:
        return ""
    hints = Hints(agent=agent_name(offer.agent.twilio_identity), queue=queue, room=offer.room)
    return twiml.conference(
        room=offer.room, label=CALLER_LABEL, action=webhook_path("dial-result", hints)
    )


def sessions_over(organization_id: int, call_sid: str, *, at: datetime) -> list[te.MonitorStopped]:
    """The monitoring sessions still open on the call, ended as its room ends, in the
    mode each was last set to. Their keys are those of a stop asked from the screen
    (telephony/twilio/desk.py): a session is stopped once."""
    rows = (
        CallEvent.objects.for_organization(organization_id)
        .filter(
            call__source=CallSource.TWILIO,
            call__external_id=call_sid,
            type__in=(
                CallEventType.MONITOR_STARTED,
                CallEventType.MONITOR_MODE_CHANGED,
                CallEventType.MONITOR_STOPPED,
            ),
        )
        .order_by("occurred_at", "pk")
        .values_list("type", "details")
    )
    open_: dict[str, dict[str, str]] = {}
    for kind, details in rows:
        session = str(details.get("session") or "")
        if kind == CallEventType.MONITOR_STARTED:
            open_[session] = {k: str(details.get(k) or "") for k in ("phone", "agent", "mode")}
        elif kind == CallEventType.MONITOR_MODE_CHANGED and session in open_:
            open_[session]["mode"] = str(details.get("mode") or "")
        elif kind == CallEventType.MONITOR_STOPPED:
            open_.pop(session, None)
    return [
        te.MonitorStopped(
            call_key=call_sid,
            at=at,
            dedup_key=f"twilio:{session}:monitor_stop",
            source=CallSource.TWILIO,
            session=session,
            phone=details["phone"],
            agent=details["agent"],
            mode=details["mode"],
        )
        for session, details in open_.items()
        if session
    ]
