"""The routed agents' phones: off the phone when an offer ends, and wrap-up's end.

The legs' status callbacks say when an agent's client rings and is answered
(telephony/twilio/phones.py); the end of a routed call is the routing's to say, since
it knows the queue's wrap-up time. When an offer ends, its agent's phone is idle: after
an answered call, in wrap-up until the queue's ``wrapup_seconds`` are over
(``AgentMemberState.wrap_up_until``), else as their queue memberships say (available,
or the pause they chose during the call). ``wrap_ups_over``, run before each decision,
ends the wrap-ups whose time is over, so the agent is available, and offered a caller,
again. The facts go through the same apply as the PBX's (contactcenter's services), so
the console, the wallboard and the agent reports read the same states as on Asterisk.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import AgentState
from contactcenter.models import Agent, CallQueue
from contactcenter.services.telephony import telephony_apply
from contactcenter.transitions import AGENT_AFTER_CALL_REASON
from telephony.models import OfferStatus, TwilioAccount, TwilioOffer
from telephony.twilio.callbacks import agent_name

# How far back a routed call's end can hold an agent in wrap-up.
_MAX_WRAPUP = timedelta(hours=24)


def _name(agent_id: int) -> str:
    return agent_name(Agent(pk=agent_id).twilio_identity)


def _apply(organization_id: int, facts: list[te.AgentMemberState]) -> None:
    account = (
        TwilioAccount.objects.filter(organization_id=organization_id)
        .values_list("account_sid", flat=True)
        .first()
    )
    if facts and account is not None:
        telephony_apply(
            organization_id=organization_id, connection_key=f"twilio:{account}", events=facts
        )


def offers_over(offers: Iterable[TwilioOffer], at: datetime) -> None:
    """The agents of these ended offers are off the phone for them (in wrap-up after an
    answered one, for its queue's wrap-up time)."""
    ended = list(offers)
    if not ended:
        return
    wrapups = dict(
        CallQueue.objects.filter(pk__in={o.queue_id for o in ended}).values_list(
            "pk", "wrapup_seconds"
        )
    )
    facts = []
    for offer in ended:
        wrapup = wrapups.get(offer.queue_id, 0) if offer.answered_at is not None else 0
        facts.append(
            te.AgentMemberState(
                agent=_name(offer.agent_id),
                queue="",
                at=at,
                device="idle",
                wrap_up_until=at + timedelta(seconds=wrapup) if wrapup else None,
            )
        )
    _apply(ended[0].organization_id, facts)


def wrap_ups_over(organization_id: int, now: datetime) -> None:
    """End the wrap-ups after routed calls whose queue's time is over: the agent is idle
    again, stamped when their wrap-up ended (or now, for ``now`` ahead of the clock)."""
    wrapping = dict(
        Agent.objects.for_organization(organization_id)
        .filter(state=AgentState.WRAP_UP, state_reason=AGENT_AFTER_CALL_REASON)
        .values_list("pk", "state_changed_at")
    )
    if not wrapping:
        return
    answered = TwilioOffer.objects.filter(
        agent_id__in=wrapping,
        status=OfferStatus.DONE,
        answered_at__isnull=False,
        ended_at__gt=now - _MAX_WRAPUP,
    ).values_list("agent_id", "ended_at", "queue__wrapup_seconds")
    held: dict[int, datetime] = {}
    for agent_id, ended_at, wrapup in answered:
        assert ended_at is not None  # the filter
        free_at = ended_at + timedelta(seconds=wrapup)
        held[agent_id] = max(held.get(agent_id, free_at), free_at)
    clock = timezone.now()
    facts = []
    for agent_id, since in wrapping.items():
        until = held.get(agent_id)
        if until is not None and until > now:
            continue  # still in wrap-up
        at = clock if until is None else min(until, clock)
        if since is not None:
            at = max(at, since)  # never before the wrap-up began (clocks apart)
        facts.append(te.AgentMemberState(agent=_name(agent_id), queue="", at=at, device="idle"))
    _apply(organization_id, facts)
